/**
 * The team policy every node runs: the root key it was configured with, the manifest in force
 * (replaced only by a higher version signed by the root), certificate verification with a
 * bounded cache, the write rule and peer admission.
 */
import { type Logger, silentLogger } from '@chorus/common'
import type { AuthorityLevel, RoleRegistry } from '@chorus/crypto'
import {
  copyCertificate,
  decodeSignedCertificate,
  type MemberCertificate,
  signatureVerifies
} from './certificate.js'
import { CertificateCache } from './certificate-cache.js'
import { type TeamPolicyInit, teamLimits, teamPolicyDefaults } from './config.js'
import { bytesEqual, toBase64url } from './encoding.js'
import {
  admissionDenialOf,
  InvalidCertificateError,
  invalidInput,
  NotAMemberError,
  StaleManifestError
} from './errors.js'
import { openManifest, registryOf } from './manifest.js'
import type { TeamManifest } from './manifest-types.js'
import { checkKey, teamIdOf } from './root.js'
import { type AuthoredRecord, authorizeWrite } from './write-rule.js'

/** What a peer proved when it was admitted: the shape of `AdmittedMember` in @chorus/dht. */
export interface AdmittedMember {
  agent: string
  roles: string[]
  notAfter: number
}

/** Counters of certificate verification. */
export interface TeamPolicyStats {
  /** Certificates fully verified (decoded, signature checked). */
  certificatesVerified: number
  /** Certificates answered from the cache (window re-checked). */
  cacheHits: number
  /** Certificates in the cache now. */
  cachedCertificates: number
}

/** The team's rules, as every node applies them. */
export interface TeamPolicy {
  /** The team id (base64url of the root public key). */
  readonly teamId: string
  /** The root's raw 32-byte Ed25519 public key (a copy). */
  readonly rootKey: Uint8Array
  /** The manifest in force (frozen). */
  readonly manifest: TeamManifest
  /** The signed bytes of the manifest in force (a copy). */
  readonly manifestBytes: Uint8Array
  /**
   * Takes a newer manifest: returns true when `bytes` (a higher version signed by the root) is now
   * in force, false when they are the manifest already in force.
   * @throws InvalidManifestError (`TEAM_INVALID_MANIFEST`) for a manifest that does not open with the root;
   *   StaleManifestError (`TEAM_STALE_MANIFEST`) for a lower version, or the same version with other bytes.
   */
  acceptManifest(bytes: Uint8Array): boolean
  /** Calls `listener` with each manifest taken after this call; returns the unsubscribe function. */
  onManifest(listener: (manifest: TeamManifest) => void): () => void
  /**
   * Verifies a member certificate: decodes it, and checks its team, that its issuer is the root or
   * an issuer of the manifest, its signature, that every role it names is defined, and that
   * `notBefore <= now() < notAfter`.
   * @throws InvalidCertificateError (`TEAM_INVALID_CERTIFICATE`) with the reason.
   */
  verifyCertificate(bytes: Uint8Array): MemberCertificate
  /**
   * Applies the write rule to a record; returns its author's certificate.
   * @throws WriteDeniedError (`TEAM_WRITE_DENIED`) with the reason, a fixed text per reason.
   */
  authorizeWrite(record: AuthoredRecord): MemberCertificate
  /**
   * Admits a peer (`PeerAdmission.admit` of @chorus/dht): its certificate verifies and its node
   * key is `peerKey` (the peer's authenticated raw 32-byte Ed25519 key).
   * @throws NotAMemberError (`TEAM_NOT_A_MEMBER`) with the reason.
   */
  admit(peerKey: Uint8Array, certificate: Uint8Array): AdmittedMember
  /** @chorus/crypto's role registry of exactly the manifest's roles. */
  roleRegistry(): RoleRegistry
  /**
   * The role's current age recipients.
   * @throws UnknownRoleError (`CRYPTO_UNKNOWN_ROLE`) for a role the manifest does not define.
   */
  recipients(role: string): string[]
  /**
   * The role's retired age recipients (they open old content only).
   * @throws UnknownRoleError (`CRYPTO_UNKNOWN_ROLE`) for a role the manifest does not define.
   */
  retiredRecipients(role: string): string[]
  /** Verification counters. */
  stats(): TeamPolicyStats
}

/** What one manifest decides, derived once when it comes into force. */
interface InForce {
  manifest: TeamManifest
  bytes: Uint8Array
  registry: RoleRegistry
  authority: Map<string, AuthorityLevel>
  issuers: Set<string>
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

function inForce(manifest: TeamManifest, bytes: Uint8Array): InForce {
  return {
    manifest: deepFreeze(manifest),
    bytes,
    registry: registryOf(manifest),
    authority: new Map(Object.entries(manifest.roles).map(([n, r]) => [n, r.authority])),
    issuers: new Set(manifest.issuers.map((i) => toBase64url(i.key)))
  }
}

class Policy implements TeamPolicy {
  readonly teamId: string
  readonly #root: Uint8Array
  readonly #now: () => number
  readonly #cache: CertificateCache
  readonly #logger: Logger
  readonly #listeners = new Set<(manifest: TeamManifest) => void>()
  #current: InForce
  #verified = 0
  #hits = 0

  constructor(init: TeamPolicyInit) {
    checkKey(init?.root, 'root')
    const now = init.now ?? teamPolicyDefaults.now
    if (typeof now !== 'function') throw invalidInput('now', 'must be a function')
    const size = init.certificateCacheSize ?? teamPolicyDefaults.certificateCacheSize
    if (!Number.isSafeInteger(size) || size < 0)
      throw invalidInput('certificateCacheSize', 'must be an integer >= 0')
    this.#root = init.root.slice()
    this.teamId = teamIdOf(this.#root)
    this.#now = now
    this.#cache = new CertificateCache(size)
    this.#logger = init.logger ?? silentLogger
    this.#current = inForce(openManifest(init.manifest, this.#root), init.manifest.slice())
  }

  get rootKey(): Uint8Array {
    return this.#root.slice()
  }

  get manifest(): TeamManifest {
    return this.#current.manifest
  }

  get manifestBytes(): Uint8Array {
    return this.#current.bytes.slice()
  }

  acceptManifest(bytes: Uint8Array): boolean {
    if (bytes instanceof Uint8Array && bytesEqual(bytes, this.#current.bytes)) return false
    const manifest = openManifest(bytes, this.#root)
    const held = this.#current.manifest.version
    if (manifest.version <= held) throw new StaleManifestError(manifest.version, held)
    this.#current = inForce(manifest, bytes.slice())
    // Issuers or roles may have gone: nothing verified under the old manifest stands.
    this.#cache.clear()
    this.#logger.info({ team: this.teamId, version: manifest.version }, 'team manifest taken')
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#current.manifest)
      } catch (err) {
        this.#logger.warn({ team: this.teamId, err }, 'a team manifest listener failed')
      }
    }
    return true
  }

  onManifest(listener: (manifest: TeamManifest) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  verifyCertificate(bytes: Uint8Array): MemberCertificate {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength > teamLimits.maxCertificateBytes) {
      throw new InvalidCertificateError('malformed')
    }
    const key = CertificateCache.keyOf(bytes)
    const hit = this.#cache.get(key)
    if (hit !== undefined) {
      this.#checkWindow(hit)
      this.#hits++
      return copyCertificate(hit)
    }
    const signed = decodeSignedCertificate(bytes)
    const c = signed.certificate
    if (c.team !== this.teamId) throw new InvalidCertificateError('other-team')
    const issuer = toBase64url(c.issuer)
    if (issuer !== this.teamId && !this.#current.issuers.has(issuer))
      throw new InvalidCertificateError('unknown-issuer')
    if (!signatureVerifies(signed)) throw new InvalidCertificateError('bad-signature')
    if (c.roles.some((r) => !this.#current.authority.has(r)))
      throw new InvalidCertificateError('unknown-role')
    this.#checkWindow(c)
    this.#verified++
    this.#cache.set(key, c)
    return copyCertificate(c)
  }

  authorizeWrite(record: AuthoredRecord): MemberCertificate {
    return authorizeWrite(
      {
        verifyCertificate: (b) => this.verifyCertificate(b),
        authorityOf: (role) => this.#current.authority.get(role)
      },
      record
    )
  }

  admit(peerKey: Uint8Array, certificate: Uint8Array): AdmittedMember {
    let c: MemberCertificate
    try {
      c = this.verifyCertificate(certificate)
    } catch (err) {
      if (InvalidCertificateError.isInstance(err))
        throw new NotAMemberError(admissionDenialOf(err.reason), { cause: err })
      throw err
    }
    if (!(peerKey instanceof Uint8Array) || !bytesEqual(peerKey, c.nodeKey))
      throw new NotAMemberError('wrong-node-key')
    return { agent: c.agent, roles: c.roles, notAfter: c.notAfter }
  }

  roleRegistry(): RoleRegistry {
    return this.#current.registry
  }

  recipients(role: string): string[] {
    return this.#recipientsOf(role, 'current')
  }

  retiredRecipients(role: string): string[] {
    return this.#recipientsOf(role, 'retired')
  }

  stats(): TeamPolicyStats {
    return {
      certificatesVerified: this.#verified,
      cacheHits: this.#hits,
      cachedCertificates: this.#cache.size
    }
  }

  #recipientsOf(role: string, status: 'current' | 'retired'): string[] {
    this.#current.registry.get(role)
    const keys = Object.hasOwn(this.#current.manifest.recipients, role)
      ? this.#current.manifest.recipients[role]
      : []
    return (keys ?? []).filter((k) => k.status === status).map((k) => k.recipient)
  }

  #checkWindow(c: MemberCertificate): void {
    const now = this.#now()
    if (now < c.notBefore) throw new InvalidCertificateError('not-yet-valid')
    if (!(now < c.notAfter)) throw new InvalidCertificateError('expired')
  }
}

/**
 * The policy of the team whose root public key is `init.root`, starting from the signed manifest
 * `init.manifest`.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) for a root that is not 32 bytes or a bad option;
 *   InvalidManifestError (`TEAM_INVALID_MANIFEST`) when the manifest does not open with the root.
 */
export function createTeamPolicy(init: TeamPolicyInit): TeamPolicy {
  return new Policy(init)
}
