/**
 * The options of this package and their defaults, in one place, and the fixed bounds every
 * decoder applies to bytes it did not make.
 */
import type { Logger } from '@chorus/common'
import type { RoleRecipient, TeamIssuer, TeamRole } from './manifest-types.js'

/** How `splitTeamRoot` splits the root seed. */
export interface TeamShareInit {
  /**
   * How many shares to make (2 to 255).
   * @default 5
   */
  shares?: number
  /**
   * How many shares recover the root (2 to `shares`).
   * @default 3
   */
  threshold?: number
}

/** The defaults of {@link TeamShareInit}. */
export const teamShareDefaults = {
  shares: 5,
  threshold: 3
} as const satisfies Required<TeamShareInit>

/** What `createManifest` builds: the team's policy, before the root signs it. */
export interface ManifestInit {
  /**
   * The team id (`teamIdOf(root.publicKey)`).
   * @default undefined (required)
   */
  team: string
  /**
   * The manifest version; nodes take only a higher one than they hold.
   * @default 1
   */
  version?: number
  /**
   * The roles of the team by name.
   * @default undefined (predefinedTeamRoles(): the predefined roles)
   */
  roles?: Record<string, TeamRole>
  /**
   * Each role's age recipients (current and retired).
   * @default {}
   */
  recipients?: Record<string, RoleRecipient[]>
  /**
   * Keys besides the root allowed to sign member certificates.
   * @default []
   */
  issuers?: TeamIssuer[]
  /**
   * When the manifest was issued, ms since the Unix epoch (informative: no rule reads it).
   * @default undefined (Date.now())
   */
  issuedAt?: number
}

/** The defaults of {@link ManifestInit}. */
export const manifestDefaults = {
  version: 1,
  recipients: {},
  issuers: []
} as const

/** The validity window of a certificate `issueCertificate` makes. */
export interface CertificateValidityInit {
  /**
   * Start of validity, ms since the Unix epoch.
   * @default undefined (Date.now())
   */
  notBefore?: number
  /**
   * End of validity (exclusive), ms since the Unix epoch.
   * @default undefined (notBefore + certificateValidity)
   */
  notAfter?: number
  /**
   * How long a certificate is valid when `notAfter` is not given, in ms (365 days).
   * @default 365 * 24 * 60 * 60 * 1000
   */
  certificateValidity?: number
}

/** The defaults of {@link CertificateValidityInit}. */
export const certificateDefaults = {
  certificateValidity: 365 * 24 * 60 * 60 * 1000
} as const

/** How `createTeamPolicy` runs. */
export interface TeamPolicyInit {
  /**
   * The team root's raw 32-byte Ed25519 public key (`parseTeamId(teamId)`): every node is configured with it.
   * @default undefined (required)
   */
  root: Uint8Array
  /**
   * The root-signed manifest in force at start (`signManifest`'s bytes).
   * @default undefined (required)
   */
  manifest: Uint8Array
  /**
   * A root-signed revocation list in force at start (`signRevocations`' bytes).
   * @default undefined (none)
   */
  revocations?: Uint8Array
  /**
   * The clock certificates' validity windows are checked against, ms since the Unix epoch.
   * @default () => Date.now()
   */
  now?: () => number
  /**
   * How many verified certificates to remember (by the SHA-256 of their bytes); 0 turns the cache off.
   * @default 1024
   */
  certificateCacheSize?: number
  /**
   * Where manifest changes and listener failures are logged.
   * @default undefined (silent)
   */
  logger?: Logger
}

/** The defaults of {@link TeamPolicyInit}. */
export const teamPolicyDefaults = {
  now: (): number => Date.now(),
  certificateCacheSize: 1024
} as const

/** The bounds every decoder of this package applies. */
export const teamLimits = {
  /** Largest encoded manifest, in bytes (64 KiB). */
  maxManifestBytes: 64 * 1024,
  /** Largest encoded certificate, in bytes (1 KiB). */
  maxCertificateBytes: 1024,
  /** Most roles in a manifest. */
  maxRoles: 256,
  /** Most issuers in a manifest. */
  maxIssuers: 256,
  /** Most recipients of one role in a manifest. */
  maxRecipientsPerRole: 256,
  /** Most roles in one certificate. */
  maxCertificateRoles: 32,
  /** Longest role description, in characters. */
  maxDescriptionChars: 500,
  /** Largest encoded revocation list, in bytes (128 KiB). */
  maxRevocationBytes: 128 * 1024,
  /** Most members in a revocation list. */
  maxRevokedMembers: 1024,
  /** Most certificate serials of one revoked member. */
  maxRevokedSerials: 16,
  /** Largest encoded key grant, in bytes (48 KiB). */
  maxGrantBytes: 48 * 1024,
  /** Largest age ciphertext in a key grant, in bytes (32 KiB). */
  maxGrantCiphertextBytes: 32 * 1024,
  /** Most keys in one key grant. */
  maxGrantKeys: 64
} as const
