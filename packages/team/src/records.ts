/**
 * The team's records on the DHT: a validator and a selector that plug into storage's
 * `chorusRecordRules({ fallbackValidator, fallbackSelector })`, for three keys:
 *   /CHORUS/team/<team id>                  the manifest, signed by the root
 *   /CHORUS/team/<team id>/revocations      the revocation list, signed by the root
 *   /CHORUS/team/<team id>/grants/<agent>   a member's key grant, signed by the root or an issuer
 * Any version signed as it must be is a valid record (an honest peer may hold an older one); the
 * selector picks the highest version (ties: the smallest bytes, so every node picks the same),
 * and the policy takes a manifest or revocation list with `acceptManifest` / `acceptRevocations`.
 * Anything else under `/CHORUS/team/` is refused with a fixed reason.
 */
import { DigestLru } from './digest-lru.js'
import { NAME_RE } from './encoding.js'
import { invalidInput, TeamRecordError, type TeamRecordFailure } from './errors.js'
import { openManifest } from './manifest.js'
import type { TeamPolicy } from './policy.js'
import { openRevocations } from './revocation.js'
import { parseTeamId } from './root.js'

/** The DHT key prefix of team records. */
export const TEAM_KEY_PREFIX = '/CHORUS/team/'

const decoder = new TextDecoder('utf-8', { fatal: false })
/** Longest team record key: the prefix, a team id, `/grants/` and a 64-character agent id. */
const MAX_KEY_BYTES = 160

/**
 * The DHT key of a team's manifest: `/CHORUS/team/<team id>`.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when `teamId` is not a team id.
 */
export function teamManifestKey(teamId: string): string {
  parseTeamId(teamId)
  return `${TEAM_KEY_PREFIX}${teamId}`
}

/**
 * The DHT key of a team's revocation list: `/CHORUS/team/<team id>/revocations`.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when `teamId` is not a team id.
 */
export function teamRevocationsKey(teamId: string): string {
  return `${teamManifestKey(teamId)}/revocations`
}

/**
 * The DHT key of a member's key grant: `/CHORUS/team/<team id>/grants/<agent>`.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when `teamId` is not a team id or `agent` not an agent id.
 */
export function teamGrantKey(teamId: string, agent: string): string {
  if (typeof agent !== 'string' || !NAME_RE.test(agent)) throw invalidInput('agent', 'must be an agent id')
  return `${teamManifestKey(teamId)}/grants/${agent}`
}

/** Which team record a key names. */
export type TeamRecordKind = { kind: 'manifest' } | { kind: 'revocations' } | { kind: 'grant'; agent: string }

/** Which of this team's records `key` names, or null for a key that is none of them. */
export function teamRecordKind(policy: Pick<TeamPolicy, 'teamId'>, key: Uint8Array): TeamRecordKind | null {
  if (!(key instanceof Uint8Array) || key.byteLength > MAX_KEY_BYTES) return null
  const text = decoder.decode(key)
  const base = teamManifestKey(policy.teamId)
  if (text === base) return { kind: 'manifest' }
  if (text === `${base}/revocations`) return { kind: 'revocations' }
  const grants = `${base}/grants/`
  if (text.startsWith(grants)) {
    const agent = text.slice(grants.length)
    if (NAME_RE.test(agent) && agent !== '__proto__') return { kind: 'grant', agent }
  }
  return null
}

/** Opens a record of `kind`; returns its version. Throws the record's own error. */
function openRecord(policy: TeamPolicy, kind: TeamRecordKind, value: Uint8Array): number {
  switch (kind.kind) {
    case 'manifest':
      return openManifest(value, policy.rootKey).version
    case 'revocations':
      return openRevocations(value, policy.rootKey).version
    case 'grant': {
      const grant = policy.openGrant(value)
      if (grant.agent !== kind.agent) throw new TeamRecordError('invalid-grant')
      return grant.version
    }
  }
}

/** Root-signed records remembered as opened, per validator or selector. */
const OPENED_ROOT_RECORDS = 16

/**
 * `openRecord` that remembers the manifests and revocation lists it opened: whether one opens
 * depends on its bytes and the team root only, and every read of the manifest (each agent reads
 * it every discovery interval) brings the same bytes from every peer, each an expensive open (a
 * key import per recipient). A grant is opened every time: it depends on the current members.
 */
function rememberingOpen(policy: TeamPolicy): (kind: TeamRecordKind, value: Uint8Array) => number {
  const opened = new DigestLru<number>(OPENED_ROOT_RECORDS)
  return (kind, value) => {
    if (kind.kind === 'grant') return openRecord(policy, kind, value)
    const id = `${kind.kind}:${DigestLru.keyOf(value)}`
    const known = opened.get(id)
    if (known !== undefined) return known
    const version = openRecord(policy, kind, value)
    opened.set(id, version)
    return version
  }
}

const FAILURE: Record<TeamRecordKind['kind'], TeamRecordFailure> = {
  manifest: 'invalid-manifest',
  revocations: 'invalid-revocations',
  grant: 'invalid-grant'
}

/**
 * A DHT record validator: refuses any key but this team's manifest, revocation list and grant
 * keys, and any value but a record of that kind signed as it must be (a grant under its own
 * agent's key).
 * @throws TeamRecordError (`TEAM_INVALID_RECORD`, reason `wrong-key`, `invalid-manifest`,
 *   `invalid-revocations` or `invalid-grant`), from the returned function.
 */
export function teamRecordValidator(policy: TeamPolicy): (key: Uint8Array, value: Uint8Array) => void {
  const open = rememberingOpen(policy)
  return (key, value) => {
    const kind = teamRecordKind(policy, key)
    if (kind === null) throw new TeamRecordError('wrong-key')
    try {
      open(kind, value)
    } catch (cause) {
      throw new TeamRecordError(FAILURE[kind.kind], { cause })
    }
  }
}

/**
 * A DHT record selector: the index of the highest valid version among `values` (ties between
 * different bytes of one version go to the smallest bytes, so every node picks the same); 0 when
 * none is valid or the key is none of this team's.
 */
export function teamRecordSelector(policy: TeamPolicy): (key: Uint8Array, values: Uint8Array[]) => number {
  const open = rememberingOpen(policy)
  return (key, values) => {
    const kind = teamRecordKind(policy, key)
    if (kind === null) return 0
    let best = -1
    let bestVersion = 0
    values.forEach((value, i) => {
      let version: number
      try {
        version = open(kind, value)
      } catch {
        return
      }
      const current = values[best]
      if (
        best === -1 ||
        version > bestVersion ||
        (version === bestVersion && current !== undefined && Buffer.compare(value, current) < 0)
      ) {
        best = i
        bestVersion = version
      }
    })
    return best === -1 ? 0 : best
  }
}
