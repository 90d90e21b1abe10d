import { copyBytes } from '@chorus/common'
import type { ResolvedAddress } from '../address.js'
import type { AuditInput } from '../audit.js'
import type { AuditedOperations } from '../audited.js'
import { type CacheOpener, ContentCache, stillOpens } from '../cache.js'
import type { Consistency } from '../config.js'
import { isTombstone } from '../envelope.js'
import { ContentDeletedError, ContentNotFoundError, IntegrityError } from '../errors.js'
import type { IndexAccess } from '../local-state.js'
import { envelopeMetadata } from '../metadata.js'
import type { StorageCounters } from '../metrics.js'
import { withinLimit } from '../operation.js'
import type { Tombstones } from '../tombstones.js'
import type { RetrieveOptions, RetrieveResult, StorageCrypto, StorageKeyring } from '../types.js'
import { decisionFieldsOf } from '../write/decision-content.js'
import type { Candidate } from './candidates.js'
import { readTarget } from './temporal.js'

export interface ReadPathComponents {
  operations: Pick<AuditedOperations, 'run'>
  /** Resolves an address for content (no wildcard), noting it in the audit entry. */
  resolve(address: string, entry: AuditInput): ResolvedAddress
  resolver: {
    latest(r: ResolvedAddress, consistency: Consistency | undefined, signal: AbortSignal): Promise<Candidate>
    latestNetwork(r: ResolvedAddress, signal: AbortSignal): Promise<Candidate>
    version(r: ResolvedAddress, n: number, signal: AbortSignal): Promise<Candidate>
  }
  cache: Pick<ContentCache, 'get' | 'put' | 'invalidate' | 'purge'>
  crypto: Pick<StorageCrypto, 'decryptWithRole'>
  /** A cache hit counts only while the key that opened it is still held. */
  keyring: Pick<StorageKeyring, 'holdsKey' | 'holdsRole'>
  local: IndexAccess
  metrics: StorageCounters
  /** Where a tombstone this read meets is reported (the facade drops the address). */
  tombstones: Pick<Tombstones, 'observe'>
  /** Aborts at shutdown. */
  shutdown: { readonly signal: AbortSignal }
}

export interface ReadPathInit {
  /** Time a retrieve may take, in ms. */
  retrieveTimeout: number
  /** The target replication factor, reported as `replicationFactor`. */
  replicationFactor: number
}

/** A retrieve's answer and what opened it (for the audit entry). */
interface Opened {
  result: RetrieveResult
  opener: CacheOpener
}

/**
 * A retrieve: resolves the temporal segment, answers from the cache when it can, else finds the
 * verified envelope (see {@link RecordResolver}), decrypts it, indexes and caches it.
 */
export class ReadPath {
  readonly #c: ReadPathComponents
  readonly #init: ReadPathInit

  constructor(components: ReadPathComponents, init: ReadPathInit) {
    this.#c = components
    this.#init = init
  }

  /** The audited `retrieveUCXLContent`. */
  retrieve(address: string, options: RetrieveOptions = {}): Promise<RetrieveResult> {
    const t0 = performance.now()
    const entry: AuditInput = { op: 'retrieve', address: String(address), success: false }
    return this.#c.operations.run(entry, { stampUpdate: true }, async () => {
      const r = this.#c.resolve(address, entry)
      const { result, opener } = await this.read(r, options)
      entry.version = result.metadata.version
      // the reader: the role and key that opened it (the creator role is in the address)
      entry.role = opener.role
      if (opener.keyId !== undefined) entry.keyId = opener.keyId
      entry.contentType = result.metadata.contentType
      entry.size = result.metadata.size
      this.#c.metrics.retrievedItems++
      this.#c.metrics.retrieveTime += performance.now() - t0
      return result
    })
  }

  private async read(r: ResolvedAddress, options: RetrieveOptions): Promise<Opened> {
    const target = readTarget(r.base, r.parsed.temporal, options.from)
    const { cache, metrics, resolver } = this.#c
    if (target.kind === 'latest') {
      const hit = this.fromCache(ContentCache.latestKey(r.base))
      if (hit !== undefined) return hit
      metrics.cacheMisses++
      return this.open(r, await this.within(r, options, (s) => resolver.latest(r, options.consistency, s)))
    }
    let version: number
    if (target.kind === 'back') {
      const latest = cache.get(ContentCache.latestKey(r.base))?.metadata.version
      version =
        (latest ?? (await this.within(r, options, (s) => resolver.latestNetwork(r, s))).envelope.version) -
        target.n
    } else {
      version = target.version
    }
    if (version < 1) throw new ContentNotFoundError(r.base, `version ${version} does not exist`)
    // the tombstone itself, or a version its purge removed: deleted, without asking the network
    const tomb = this.#c.local.index.getTombstone(r.base)
    if (tomb !== undefined && (version === tomb.version || version < tomb.purgedBelow)) {
      throw new ContentDeletedError(r.base, tomb.version)
    }
    const hit = this.fromCache(ContentCache.versionKey(r.base, version))
    if (hit !== undefined) return hit
    metrics.cacheMisses++
    return this.open(r, await this.within(r, options, (s) => resolver.version(r, version, s)))
  }

  private fromCache(key: string): Opened | undefined {
    const { cache, keyring } = this.#c
    const hit = cache.get(key)
    if (hit === undefined) return undefined
    if (!stillOpens(keyring, hit.opener)) {
      // its key was removed: drop everything that key opened, and read (decrypt) again
      cache.purge((o) => stillOpens(keyring, o))
      return undefined
    }
    this.#c.metrics.cacheHits++
    return {
      result: { content: copyBytes(hit.content), metadata: hit.metadata, source: 'cache' },
      opener: hit.opener
    }
  }

  private within<T>(
    r: ResolvedAddress,
    options: RetrieveOptions,
    fn: (signal: AbortSignal) => Promise<T>
  ): Promise<T> {
    const ms = this.#init.retrieveTimeout
    return withinLimit(
      {
        ms,
        operation: `retrieve of ${r.base}`,
        signal: options.signal,
        shutdown: this.#c.shutdown.signal,
        callerReason: true
      },
      fn
    )
  }

  /** Decrypts a verified candidate, then indexes and caches it. */
  private async open(r: ResolvedAddress, c: Candidate): Promise<Opened> {
    const { cache, crypto, metrics } = this.#c
    const { index } = this.#c.local
    const e = c.envelope
    if (isTombstone(e)) {
      // a chain that ends in a tombstone: deleted here too from now on
      index.add(r.parsed, r.digest, e, c.bytes, c.hash, 'retrieved')
      this.#c.tombstones.observe({ envelope: e, digest: r.digest })
      cache.invalidate(r.base)
      throw new ContentDeletedError(r.base, e.version)
    }
    let plaintext: Uint8Array
    let opener: CacheOpener
    try {
      metrics.decryptionOps++
      const opened = await crypto.decryptWithRole(e.ciphertext)
      plaintext = opened.plaintext
      opener = { role: opened.role, keyId: opened.keyId }
    } catch (err) {
      cache.invalidate(r.base)
      throw err
    }
    if (plaintext.byteLength !== e.metadata.size) {
      cache.invalidate(r.base)
      throw new IntegrityError(r.base, 'decrypted size differs from the signed size')
    }
    const source: RetrieveResult['source'] = c.from.has('self') && c.from.size === 1 ? 'local' : 'network'
    index.add(r.parsed, r.digest, e, c.bytes, c.hash, 'retrieved')
    // a decision this node can read: its task and author become searchable here too
    const decision = decisionFieldsOf(e.metadata.contentType, plaintext)
    if (decision !== undefined) index.addDecision(r.base, e.version, decision)
    const highest = index.getChain(r.base)?.highest ?? e.version
    const peers = [...c.from].filter((f) => f !== 'self')
    const metadata = envelopeMetadata(r.parsed, e, c.hash, peers, this.#init.replicationFactor)
    cache.put(r.base, plaintext, metadata, e.version >= highest, opener) // the cache keeps a copy
    return { result: { content: plaintext, metadata, source }, opener }
  }
}
