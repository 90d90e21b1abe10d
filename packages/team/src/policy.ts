/**
 * The team policy every node runs: the root key it was configured with, the manifest in force
 * (replaced only by a higher version signed by the root), certificate verification with a
 * bounded cache, the write rule and peer admission.
 */
import { bytesEqual, copyBytes, type Logger, silentLogger } from '@chorus/common'
import type { AuthorityLevel, RoleRegistry } from '@chorus/crypto'
import {
  copyCertificate,
  decodeSignedCertificate,
  type MemberCertificate,
  signatureVerifies
} from './certificate.js'
import { CertificateCache } from './certificate-cache.js'
import { type TeamPolicyInit, teamLimits, teamPolicyDefaults } from './config.js'
import { toBase64url } from './encoding.js'
import {
  admissionDenialOf,
  InvalidCertificateError,
  invalidInput,
  NotAMemberError,
  StaleManifestError,
  StaleTeamRecordError,
  WriteDeniedError
} from './errors.js'
import { type KeyGrant, openKeyGrant } from './grant.js'
import { openManifest, registryOf } from './manifest.js'
import type { RoleRecipient, TeamManifest } from './manifest-types.js'
import { openRevocations, type RevocationList, type RevokedMember, revocationOf } from './revocation.js'
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
  /** The revocation list in force (frozen); undefined while none was taken. */
  readonly revocations: RevocationList | undefined
  /** The signed bytes of the revocation list in force (a copy); undefined while none was taken. */
  readonly revocationBytes: Uint8Array | undefined
  /**
   * Takes a newer revocation list: returns true when `bytes` (a higher version signed by the
   * root) is now in force, false when they are the list already in force. Certificates verified
   * before are verified again.
   * @throws InvalidRevocationsError (`TEAM_INVALID_REVOCATIONS`) for a list that does not open with the root;
   *   StaleTeamRecordError (`TEAM_STALE_RECORD`) for a lower version, or the same version with other bytes.
   */
  acceptRevocations(bytes: Uint8Array): boolean
  /** Calls `listener` with each revocation list taken after this call; returns the unsubscribe function. */
  onRevocations(listener: (list: RevocationList) => void): () => void
  /** The entry of the list in force that revokes this certificate, if any. */
  revocationOf(
    certificate: Pick<MemberCertificate, 'agent' | 'nodeKey' | 'serial'>
  ): RevokedMember | undefined
  /**
   * Opens a key grant of this team signed by the root or an issuer of the manifest in force (the
   * identities stay encrypted: `decryptKeyGrant` opens them with the member's key).
   * @throws InvalidGrantError (`TEAM_INVALID_GRANT`) naming the broken rule.
   */
  openGrant(bytes: Uint8Array): KeyGrant
  /**
   * Verifies a member certificate: decodes it, and checks its team, that its issuer is the root or
   * an issuer of the manifest, its signature, that every role it names is defined, that
   * `notBefore <= now() < notAfter`, and that the revocation list does not name it.
   * @throws InvalidCertificateError (`TEAM_INVALID_CERTIFICATE`) with the reason.
   */
  verifyCertificate(bytes: Uint8Array): MemberCertificate
  /**
   * Applies the write rule to a record; returns its author's certificate. A revoked author's
   * records signed (by their timestamp) before `revokedAt` stay valid, so old content keeps
   * reading; later ones, or ones without a timestamp, are refused. Disconnection is the first line
   * against a revoked member: a record it backdates would need a member still admitted to carry
   * it into the network.
   * @throws WriteDeniedError (`TEAM_WRITE_DENIED`) with the reason, a fixed text per reason.
   */
  authorizeWrite(record: AuthoredRecord): MemberCertificate
  /**
   * Admits a peer (`PeerAdmission.admit` of @chorus/dht): its certificate verifies (and is not
   * revoked) and its node key is `peerKey` (the peer's authenticated raw 32-byte Ed25519 key).
   * @throws NotAMemberError (`TEAM_NOT_A_MEMBER`) with the reason.
   */
  admit(peerKey: Uint8Array, certificate: Uint8Array): AdmittedMember
  /** @chorus/crypto's role registry of exactly the manifest's roles. */
  roleRegistry(): RoleRegistry
  /**
   * The age recipients new content of the role goes to: its current keys, and retired keys still
   * within their overlap window (`overlapUntil > now()`).
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
  readonly #revocationListeners = new Set<(list: RevocationList) => void>()
  #current: InForce
  #revoked: { list: RevocationList; bytes: Uint8Array } | undefined
  #verified = 0
  #hits = 0

  constructor(init: TeamPolicyInit) {
    checkKey(init?.root, 'root')
    const now = init.now ?? teamPolicyDefaults.now
    if (typeof now !== 'function') throw invalidInput('now', 'must be a function')
    const size = init.certificateCacheSize ?? teamPolicyDefaults.certificateCacheSize
    if (!Number.isSafeInteger(size) || size < 0)
      throw invalidInput('certificateCacheSize', 'must be an integer >= 0')
    this.#root = copyBytes(init.root)
    this.teamId = teamIdOf(this.#root)
    this.#now = now
    this.#cache = new CertificateCache(size)
    this.#logger = init.logger ?? silentLogger
    this.#current = inForce(openManifest(init.manifest, this.#root), copyBytes(init.manifest))
    if (init.revocations !== undefined) this.acceptRevocations(init.revocations)
  }

  get rootKey(): Uint8Array {
    return copyBytes(this.#root)
  }

  get manifest(): TeamManifest {
    return this.#current.manifest
  }

  get manifestBytes(): Uint8Array {
    return copyBytes(this.#current.bytes)
  }

  acceptManifest(bytes: Uint8Array): boolean {
    if (bytes instanceof Uint8Array && bytesEqual(bytes, this.#current.bytes)) return false
    const manifest = openManifest(bytes, this.#root)
    const held = this.#current.manifest.version
    if (manifest.version <= held) throw new StaleManifestError(manifest.version, held)
    this.#current = inForce(manifest, copyBytes(bytes))
    // Issuers or roles may have gone: nothing verified under the old manifest stands.
    this.#cache.clear()
    this.#logger.info({ team: this.teamId, version: manifest.version }, 'team manifest taken')
    this.#notify(this.#listeners, this.#current.manifest)
    return true
  }

  get revocations(): RevocationList | undefined {
    return this.#revoked?.list
  }

  get revocationBytes(): Uint8Array | undefined {
    return this.#revoked === undefined ? undefined : new Uint8Array(this.#revoked.bytes)
  }

  acceptRevocations(bytes: Uint8Array): boolean {
    if (this.#revoked !== undefined && bytes instanceof Uint8Array && bytesEqual(bytes, this.#revoked.bytes))
      return false
    const list = openRevocations(bytes, this.#root)
    const held = this.#revoked?.list.version ?? 0
    if (list.version <= held) throw new StaleTeamRecordError('revocations', list.version, held)
    this.#revoked = { list: deepFreeze(list), bytes: new Uint8Array(bytes) }
    // a certificate answered from the cache must meet the new list
    this.#cache.clear()
    this.#logger.info(
      { team: this.teamId, version: list.version, revoked: list.revoked.length },
      'team revocation list taken'
    )
    this.#notify(this.#revocationListeners, list)
    return true
  }

  onRevocations(listener: (list: RevocationList) => void): () => void {
    this.#revocationListeners.add(listener)
    return () => {
      this.#revocationListeners.delete(listener)
    }
  }

  revocationOf(
    certificate: Pick<MemberCertificate, 'agent' | 'nodeKey' | 'serial'>
  ): RevokedMember | undefined {
    return revocationOf(this.#revoked?.list, certificate)
  }

  openGrant(bytes: Uint8Array): KeyGrant {
    return openKeyGrant(
      bytes,
      this.#root,
      this.#current.manifest.issuers.map((i) => i.key)
    )
  }

  #notify<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value)
      } catch (err) {
        this.#logger.warn({ team: this.teamId, err }, 'a team policy listener failed')
      }
    }
  }

  onManifest(listener: (manifest: TeamManifest) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  verifyCertificate(bytes: Uint8Array): MemberCertificate {
    const c = this.#verify(bytes)
    if (this.revocationOf(c) !== undefined) throw new InvalidCertificateError('revoked')
    return c
  }

  /** The certificate checks without the revocation list (the write rule judges revoked authors by time). */
  #verify(bytes: Uint8Array): MemberCertificate {
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
    const c = authorizeWrite(
      {
        verifyCertificate: (b) => this.#verify(b),
        authorityOf: (role) => this.#current.authority.get(role)
      },
      record
    )
    const revoked = this.revocationOf(c)
    if (revoked !== undefined) {
      const t = record.timestamp
      if (typeof t !== 'number' || !Number.isFinite(t) || t >= revoked.revokedAt)
        throw new WriteDeniedError('revoked')
    }
    return c
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
    const now = this.#now()
    return this.#keysOf(role)
      .filter((k) => k.status === 'current' || (k.overlapUntil !== undefined && k.overlapUntil > now))
      .map((k) => k.recipient)
  }

  retiredRecipients(role: string): string[] {
    return this.#keysOf(role)
      .filter((k) => k.status === 'retired')
      .map((k) => k.recipient)
  }

  stats(): TeamPolicyStats {
    return {
      certificatesVerified: this.#verified,
      cacheHits: this.#hits,
      cachedCertificates: this.#cache.size
    }
  }

  #keysOf(role: string): readonly RoleRecipient[] {
    this.#current.registry.get(role)
    const keys = Object.hasOwn(this.#current.manifest.recipients, role)
      ? this.#current.manifest.recipients[role]
      : []
    return keys ?? []
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
