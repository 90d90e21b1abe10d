/**
 * The team's revocation list: root-signed and versioned like the manifest (canonical CBOR of its
 * fields, a signature over a context of its own), naming each revoked member by agent, node key
 * and certificate serials, with the time it was revoked. A node takes only a higher version
 * (`TeamPolicy.acceptRevocations`); from then on the member is refused admission and its
 * certificate does not verify, and records it signed at or after `revokedAt` are refused.
 */
import { bytesEqual } from '@chorus/common'
import type { MemberCertificate } from './certificate.js'
import { teamLimits } from './config.js'
import { KEY_BYTES } from './ed25519.js'
import { byteString, exactKeys, fault, int, list, name, toBase64url, unique } from './encoding.js'
import { InvalidRevocationsError } from './errors.js'
import { isTeamId, type TeamSigner } from './root.js'
import { openRootDocument, type RootDocumentKind, signRootDocument } from './root-document.js'

// Domain separation: a revocation list's signature is never a manifest's, a certificate's or a grant's.
const CONTEXT = new TextEncoder().encode('CHORUS-TEAM-REVOCATIONS-v1\n')
const FIELDS = ['team', 'version', 'issuedAt', 'revoked'] as const
const ENTRY_FIELDS = ['agent', 'nodeKey', 'serials', 'revokedAt'] as const
const L = teamLimits
const REVOCATIONS: RootDocumentKind<RevocationList> = {
  what: 'revocation list',
  context: CONTEXT,
  fields: FIELDS,
  maxBytes: () => L.maxRevocationBytes,
  check: checkList,
  wire: wireFields,
  refuse: (detail) => new InvalidRevocationsError(detail)
}

/** One revoked member. */
export interface RevokedMember {
  /** Its agent id. */
  agent: string
  /** The raw 32-byte Ed25519 node key its certificates bind: every certificate for it is revoked. */
  nodeKey: Uint8Array
  /** The serials of its certificates (those for another node key are revoked too). */
  serials: number[]
  /** When it was revoked, ms since the Unix epoch: records it signed from then on are refused. */
  revokedAt: number
}

/** The team's revocation list, signed by the root; nodes take only a higher version. */
export interface RevocationList {
  /** The team id. */
  team: string
  version: number
  /** ms since the Unix epoch; informative. */
  issuedAt: number
  revoked: RevokedMember[]
}

/**
 * Signs a revocation list with the team root.
 * @throws InvalidRevocationsError (`TEAM_INVALID_REVOCATIONS`) when it breaks a rule of
 *   `openRevocations` or its encoding is over `teamLimits.maxRevocationBytes`;
 *   InvalidInputError (`TEAM_INVALID_INPUT`) when the signer is not the root of `list.team`.
 */
export function signRevocations(list: RevocationList, signer: TeamSigner): Uint8Array {
  return signRootDocument(REVOCATIONS, list, signer)
}

/**
 * Decodes a signed revocation list and verifies it with the team root `rootKey`: canonical CBOR
 * within `teamLimits.maxRevocationBytes`, exactly its fields within their bounds, `team` the id
 * of `rootKey`, and the root's signature.
 * @throws InvalidRevocationsError (`TEAM_INVALID_REVOCATIONS`) naming the broken rule (never the input);
 *   InvalidInputError (`TEAM_INVALID_INPUT`) when `rootKey` is not 32 bytes.
 */
export function openRevocations(bytes: Uint8Array, rootKey: Uint8Array): RevocationList {
  return openRootDocument(REVOCATIONS, bytes, rootKey)
}

/** The entry of `list` that revokes certificate `c` (its node key, or its agent and serial), if any. */
export function revocationOf(
  list: RevocationList | undefined,
  c: Pick<MemberCertificate, 'agent' | 'nodeKey' | 'serial'>
): RevokedMember | undefined {
  return list?.revoked.find(
    (e) => bytesEqual(e.nodeKey, c.nodeKey) || (e.agent === c.agent && e.serials.includes(c.serial))
  )
}

function wireFields(r: RevocationList): Record<string, unknown> {
  return {
    team: r.team,
    version: r.version,
    issuedAt: r.issuedAt,
    revoked: r.revoked.map((e) => ({
      agent: e.agent,
      nodeKey: e.nodeKey,
      serials: e.serials,
      revokedAt: e.revokedAt
    }))
  }
}

/** Every rule but the signature; returns a fresh copy. Throws `Fault`. */
function checkList(input: unknown): RevocationList {
  const raw = exactKeys(input, FIELDS, 'revocation list')
  if (!isTeamId(raw.team)) fault('team must be a team id')
  const revoked = list(raw.revoked, L.maxRevokedMembers, 'revoked').map((v): RevokedMember => {
    const e = exactKeys(v, ENTRY_FIELDS, 'revoked member')
    const serials = list(e.serials, L.maxRevokedSerials, 'serials').map((s) =>
      int(s, 0, Number.MAX_SAFE_INTEGER, 'serial')
    )
    unique(serials, 'serials')
    return {
      agent: name(e.agent, 'agent'),
      nodeKey: byteString(e.nodeKey, KEY_BYTES, 'nodeKey'),
      serials,
      revokedAt: int(e.revokedAt, 0, Number.MAX_SAFE_INTEGER, 'revokedAt')
    }
  })
  unique(
    revoked.map((e) => toBase64url(e.nodeKey)),
    'revoked node keys'
  )
  return {
    team: raw.team,
    version: int(raw.version, 1, Number.MAX_SAFE_INTEGER, 'version'),
    issuedAt: int(raw.issuedAt, 0, Number.MAX_SAFE_INTEGER, 'issuedAt'),
    revoked
  }
}
