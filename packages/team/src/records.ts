/**
 * The team manifest on the DHT, under `/CHORUS/team/<team id>`: a validator and a selector that
 * plug into storage's `chorusRecordRules({ fallbackValidator, fallbackSelector })`. Any manifest
 * of this team signed by its root is a valid record (an honest peer may hold an older one); the
 * selector picks the highest version, and the policy takes it with `acceptManifest`.
 */
import { bytesEqual } from './encoding.js'
import { TeamRecordError } from './errors.js'
import { openManifest } from './manifest.js'
import type { TeamPolicy } from './policy.js'
import { parseTeamId } from './root.js'

/** The DHT key prefix of team manifests. */
export const TEAM_KEY_PREFIX = '/CHORUS/team/'

const encoder = new TextEncoder()

/**
 * The DHT key of a team's manifest: `/CHORUS/team/<team id>`.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when `teamId` is not a team id.
 */
export function teamManifestKey(teamId: string): string {
  parseTeamId(teamId)
  return `${TEAM_KEY_PREFIX}${teamId}`
}

/**
 * A DHT record validator: refuses any key but the policy's team manifest key, and any value but
 * a manifest of this team signed by its root.
 * @throws TeamRecordError (`TEAM_INVALID_RECORD`, reason `wrong-key` or `invalid-manifest`), from
 *   the returned function.
 */
export function teamRecordValidator(policy: TeamPolicy): (key: Uint8Array, value: Uint8Array) => void {
  const expected = encoder.encode(teamManifestKey(policy.teamId))
  const root = policy.rootKey
  return (key, value) => {
    if (!(key instanceof Uint8Array) || !bytesEqual(key, expected)) throw new TeamRecordError('wrong-key')
    try {
      openManifest(value, root)
    } catch (cause) {
      throw new TeamRecordError('invalid-manifest', { cause })
    }
  }
}

/**
 * A DHT record selector: the index of the highest valid manifest version among `values` (ties
 * between different bytes of one version go to the smallest bytes, so every node picks the same);
 * 0 when none is valid.
 */
export function teamRecordSelector(policy: TeamPolicy): (key: Uint8Array, values: Uint8Array[]) => number {
  const root = policy.rootKey
  return (_key, values) => {
    let best = -1
    let bestVersion = 0
    values.forEach((value, i) => {
      let version: number
      try {
        version = openManifest(value, root).version
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
