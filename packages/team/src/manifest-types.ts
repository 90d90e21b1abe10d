/** The team manifest's shape: the team's versioned, root-signed policy. */
import type { AuthorityLevel } from '@chorus/crypto'

/** A role of the team: its authority and whose content it may decrypt. */
export interface TeamRole {
  /** `read_only` roles never write. */
  authority: AuthorityLevel
  /** Roles whose content this role may decrypt (names defined in the manifest), or `*` for every role. */
  canDecrypt: string[]
  description: string
}

/** One age recipient (public key) of a role. */
export interface RoleRecipient {
  /** `keyIdOf(recipient)` of @chorus/crypto: the first 16 hex digits of SHA-256(recipient). */
  keyId: string
  /** The age X25519 recipient, `age1…`. */
  recipient: string
  /** `current` keys receive new content; `retired` keys only open old content. */
  status: 'current' | 'retired'
  /** When the key was made, ms since the Unix epoch. */
  createdAt: number
  /** A retired key: when it was retired, ms since the Unix epoch (absent on older manifests). */
  retiredAt?: number
  /**
   * A retired key still receiving new content until this time (a rotation's overlap window, so
   * members not yet holding the new key keep reading), ms since the Unix epoch; never after a
   * revocation.
   */
  overlapUntil?: number
}

/** A key besides the root allowed to sign member certificates. */
export interface TeamIssuer {
  /** A name for people (`[A-Za-z0-9_-]{1,64}`, unique in the manifest). */
  name: string
  /** The issuer's raw 32-byte Ed25519 public key. */
  key: Uint8Array
}

/** The team's policy, signed by the root; nodes take only a higher version than they hold. */
export interface TeamManifest {
  /** The team id (base64url of the root public key). */
  team: string
  version: number
  /** ms since the Unix epoch; informative, no rule reads it. */
  issuedAt: number
  roles: Record<string, TeamRole>
  /** Each role's recipients, by role name (every name a role of this manifest). */
  recipients: Record<string, RoleRecipient[]>
  issuers: TeamIssuer[]
}
