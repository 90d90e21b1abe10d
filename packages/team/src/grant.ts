/**
 * Key grants: how role identities reach a member without a file being copied. A grant is signed
 * by the root or an issuer of the manifest, versioned per member (the newest replaces the older:
 * it lists every key the member should hold), and carries the identities as an age file
 * encrypted to the member's own recipient (the one its certificate names). The public part lists
 * each granted key's role and id, so a node can check what a grant claims before opening it, and
 * the opened identities must be exactly those keys.
 */
import { bytesEqual, copyBytes } from '@chorus/common'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  formatIdentityFile,
  type IdentityFileEntry,
  parseIdentityFile,
  type RoleKey
} from '@chorus/crypto'
import { teamLimits } from './config.js'
import { KEY_BYTES, SIGNATURE_BYTES, verifySignature } from './ed25519.js'
import {
  ageRecipient,
  byteString,
  decodeStrict,
  encodeCanonical,
  exactKeys,
  Fault,
  fault,
  int,
  list,
  name,
  requireCanonical,
  signingBytes,
  unique
} from './encoding.js'
import { InvalidGrantError, invalidInput } from './errors.js'
import { checkKey, isTeamId, signChecked, type TeamSigner } from './root.js'

// Domain separation: a grant's signature is never a manifest's, a certificate's or a revocation list's.
const CONTEXT = new TextEncoder().encode('CHORUS-TEAM-GRANT-v1\n')
const FIELDS = ['team', 'agent', 'version', 'issuedAt', 'recipient', 'keys', 'ciphertext', 'issuer'] as const
const SIGNED_FIELDS = [...FIELDS, 'signature'] as const
const KEY_ID_RE = /^[0-9a-f]{16}$/
const L = teamLimits

/** One granted key, as the grant lists it in the clear. */
export interface GrantedKey {
  role: string
  /** `keyIdOf(recipient)`. */
  keyId: string
}

/** A signed key grant, opened (its identities still encrypted). */
export interface KeyGrant {
  team: string
  /** The member it is for. */
  agent: string
  /** Per member; a node keeps the highest. */
  version: number
  /** ms since the Unix epoch; informative. */
  issuedAt: number
  /** The member's own age recipient the identities are encrypted to. */
  recipient: string
  /** The keys it carries. */
  keys: GrantedKey[]
  /** The age ciphertext of the identity file of those keys. */
  ciphertext: Uint8Array
  /** The raw 32-byte Ed25519 key that signed it: the root or an issuer of the manifest. */
  issuer: Uint8Array
}

/** What `createKeyGrant` takes. */
export interface KeyGrantInit {
  team: string
  agent: string
  version: number
  /** The member's own age recipient (from its certificate). */
  recipient: string
  /** The identities to grant (each key must carry its identity). */
  keys: IdentityFileEntry[]
  /** @default Date.now() */
  issuedAt?: number
}

/**
 * Makes a key grant: the identities encrypted to `init.recipient`, signed by `signer` (the root
 * or an issuer of the manifest; nodes check which).
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when a field breaks a rule of `openKeyGrant`,
 *   a key carries no identity, or the encoding is over the limits.
 */
export async function createKeyGrant(init: KeyGrantInit, signer: TeamSigner): Promise<Uint8Array> {
  checkKey(signer?.publicKey, 'signer.publicKey')
  const entries = Array.isArray(init?.keys) ? init.keys : []
  let text: string
  try {
    text = formatIdentityFile(entries)
  } catch {
    throw invalidInput('keys', 'must all carry their identities')
  }
  const role = 'grant'
  const keyring = createKeyring()
  let ciphertext: Uint8Array
  try {
    keyring.addRecipient(role, ageRecipient(init.recipient, 'recipient'))
    const crypto = createAgeCrypto({ roles: grantRegistry(role), keyring })
    ciphertext = await crypto.encryptForRoles(text, [role])
  } catch (err) {
    if (err instanceof Fault) throw invalidInput('grant', err.detail)
    throw err
  }
  const grant = checked(() =>
    checkFields({
      team: init.team,
      agent: init.agent,
      version: init.version,
      issuedAt: init.issuedAt ?? Date.now(),
      recipient: init.recipient,
      keys: entries.map((e) => ({ role: e.key.role, keyId: e.key.id })),
      ciphertext,
      issuer: signer.publicKey
    })
  )
  const signature = signChecked(signer, signingBytes(CONTEXT, wireFields(grant)))
  const bytes = encodeCanonical({ ...wireFields(grant), signature })
  if (bytes.byteLength > L.maxGrantBytes) throw invalidInput('grant', 'encoding is over the size limit')
  return bytes
}

/**
 * Decodes a key grant and verifies its signature with its issuer, which must be `rootKey` or one
 * of `issuers` (the manifest's); `team` must be the id of `rootKey`. The identities stay encrypted.
 * @throws InvalidGrantError (`TEAM_INVALID_GRANT`) naming the broken rule (never the input).
 */
export function openKeyGrant(bytes: Uint8Array, rootKey: Uint8Array, issuers: Uint8Array[] = []): KeyGrant {
  checkKey(rootKey, 'rootKey')
  try {
    const raw = exactKeys(decodeStrict(bytes, L.maxGrantBytes), SIGNED_FIELDS, 'grant')
    const signature = byteString(raw.signature, SIGNATURE_BYTES, 'signature')
    const { signature: _omitted, ...unsigned } = raw
    const grant = checkFields(unsigned)
    const fields = wireFields(grant)
    requireCanonical(bytes, { ...fields, signature })
    if (grant.team !== Buffer.from(rootKey).toString('base64url')) fault('signed for another team')
    const known = [rootKey, ...issuers].some((k) => bytesEqual(k, grant.issuer))
    if (!known) fault('not signed by the root or an issuer of the team')
    if (!verifySignature(grant.issuer, signingBytes(CONTEXT, fields), signature)) {
      fault('signature does not verify with its issuer')
    }
    return grant
  } catch (err) {
    if (err instanceof Fault) throw new InvalidGrantError(err.detail)
    throw err
  }
}

/**
 * Opens a grant's identities with the member's own key (the identity of `grant.recipient`).
 * Resolves with exactly the keys the grant lists, each with its identity.
 * @throws InvalidGrantError (`TEAM_INVALID_GRANT`) when `memberKey` is not the grant's recipient,
 *   the ciphertext does not open, or what it holds is not exactly the listed keys.
 */
export async function decryptKeyGrant(grant: KeyGrant, memberKey: RoleKey): Promise<IdentityFileEntry[]> {
  if (memberKey?.recipient !== grant.recipient) throw new InvalidGrantError('not for this member key')
  const keyring = createKeyring()
  let text: string
  try {
    keyring.addIdentity(memberKey)
    const crypto = createAgeCrypto({ roles: grantRegistry(memberKey.role), keyring })
    text = new TextDecoder('utf-8', { fatal: true }).decode(
      (await crypto.decryptWithRole(grant.ciphertext)).plaintext
    )
  } catch (cause) {
    throw new InvalidGrantError('the identities do not open with the member key', { cause })
  }
  let entries: IdentityFileEntry[]
  try {
    entries = parseIdentityFile(text, 'key grant')
  } catch (cause) {
    throw new InvalidGrantError('the identities are not an identity file', { cause })
  }
  const listed = new Set(grant.keys.map((k) => `${k.role}/${k.keyId}`))
  const held = new Set(entries.map((e) => `${e.key.role}/${e.key.id}`))
  if (
    entries.length !== grant.keys.length ||
    held.size !== listed.size ||
    [...held].some((k) => !listed.has(k))
  ) {
    throw new InvalidGrantError('the identities are not the keys it lists')
  }
  return entries
}

function grantRegistry(role: string) {
  return createRoleRegistry(
    { [role]: { authority: 'read_only', canDecrypt: [], description: 'a member key (key grants)' } },
    { includePredefined: false, source: 'key grant' }
  )
}

function checked<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if (err instanceof Fault) throw invalidInput('grant', err.detail)
    throw err
  }
}

function wireFields(g: KeyGrant): Record<string, unknown> {
  return {
    team: g.team,
    agent: g.agent,
    version: g.version,
    issuedAt: g.issuedAt,
    recipient: g.recipient,
    keys: g.keys.map((k) => ({ role: k.role, keyId: k.keyId })),
    ciphertext: g.ciphertext,
    issuer: g.issuer
  }
}

/** Every rule but the signature and the issuer's standing; a fresh copy. Throws `Fault`. */
function checkFields(input: unknown): KeyGrant {
  const raw = exactKeys(input, FIELDS, 'grant')
  if (!isTeamId(raw.team)) fault('team must be a team id')
  const keys = list(raw.keys, L.maxGrantKeys, 'keys', 1).map((k): GrantedKey => {
    const e = exactKeys(k, ['role', 'keyId'], 'granted key')
    if (typeof e.keyId !== 'string' || !KEY_ID_RE.test(e.keyId)) fault('keyId must be 16 hex digits')
    return { role: name(e.role, 'role'), keyId: e.keyId }
  })
  unique(
    keys.map((k) => k.keyId),
    'granted keys'
  )
  if (!(raw.ciphertext instanceof Uint8Array) || raw.ciphertext.byteLength > L.maxGrantCiphertextBytes) {
    fault('ciphertext must be bytes within the size limit')
  }
  return {
    team: raw.team,
    agent: name(raw.agent, 'agent'),
    version: int(raw.version, 1, Number.MAX_SAFE_INTEGER, 'version'),
    issuedAt: int(raw.issuedAt, 0, Number.MAX_SAFE_INTEGER, 'issuedAt'),
    recipient: ageRecipient(raw.recipient, 'recipient'),
    keys,
    ciphertext: copyBytes(raw.ciphertext),
    issuer: byteString(raw.issuer, KEY_BYTES, 'issuer')
  }
}
