/**
 * Rotating a role's key in the manifest: the new key becomes the role's current key and the keys
 * that were current are retired (they open old content only), optionally after an overlap window
 * during which new content is still also encrypted to them, so members that do not hold the new
 * key yet keep reading. A rotation after a revocation has no overlap: it also ends any overlap
 * still running, since the revoked member holds those keys.
 */
import { keyIdOf } from '@chorus/crypto'
import type { ManifestInit } from './config.js'
import { invalidInput } from './errors.js'
import type { RoleRecipient, TeamManifest } from './manifest-types.js'

/** What `rotateRoleKey` takes. */
export interface RoleRotationInit {
  /** The role whose key is rotated (defined in the manifest). */
  role: string
  /** The new key's age recipient (`age1…`). */
  recipient: string
  /**
   * When the rotation happens, ms since the Unix epoch.
   * @default Date.now()
   */
  now?: number
  /**
   * How long the keys it retires still receive new content, in ms; 0 for none (always after a
   * revocation), which also ends the overlap of keys retired earlier.
   * @default 0
   */
  overlap?: number
}

/**
 * The next manifest (version + 1, `issuedAt` now) with `init.role`'s key rotated; sign it with
 * `signManifest(createManifest(next), signer)`. Every other role is unchanged.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) for a role the manifest does not define, a
 *   recipient it already lists for the role, or a bad `now` or `overlap`.
 */
export function rotateRoleKey(manifest: TeamManifest, init: RoleRotationInit): ManifestInit {
  const { role } = init
  if (!Object.hasOwn(manifest.roles, role)) throw invalidInput('role', 'is not a role of the manifest')
  const now = init.now ?? Date.now()
  const overlap = init.overlap ?? 0
  if (!Number.isSafeInteger(now) || now < 0) throw invalidInput('now', 'must be an integer >= 0')
  if (!Number.isSafeInteger(overlap) || overlap < 0) throw invalidInput('overlap', 'must be an integer >= 0')
  const keys = Object.hasOwn(manifest.recipients, role) ? (manifest.recipients[role] ?? []) : []
  let keyId: string
  try {
    keyId = keyIdOf(init.recipient)
  } catch {
    throw invalidInput('recipient', 'must be an age X25519 recipient')
  }
  if (keys.some((k) => k.keyId === keyId)) throw invalidInput('recipient', 'is already a key of the role')
  const until = now + overlap
  const rotated: RoleRecipient[] = keys.map((k) => retire(k, now, until, overlap))
  rotated.push({ keyId, recipient: init.recipient, status: 'current', createdAt: now })
  return {
    team: manifest.team,
    version: manifest.version + 1,
    issuedAt: now,
    roles: manifest.roles,
    recipients: { ...manifest.recipients, [role]: rotated },
    issuers: manifest.issuers
  }
}

function retire(k: RoleRecipient, now: number, until: number, overlap: number): RoleRecipient {
  const base = { keyId: k.keyId, recipient: k.recipient, createdAt: k.createdAt }
  const retiredAt = k.status === 'retired' ? (k.retiredAt ?? now) : now
  // a window still running is cut to the new one; none without an overlap
  const previous = k.status === 'current' ? until : Math.min(k.overlapUntil ?? 0, until)
  const overlapUntil = overlap > 0 && previous > now ? Math.max(previous, retiredAt) : undefined
  return {
    ...base,
    status: 'retired',
    retiredAt,
    ...(overlapUntil !== undefined ? { overlapUntil } : {})
  }
}
