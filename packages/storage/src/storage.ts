import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  type AbortOptions,
  type Dht,
  type Logger,
  type PeerMessaging,
  type PutResult,
  type ReceivedValue,
  sortByDistance
} from '@chorus/dht'
import { formatAddress, matchesAddress } from '@chorus/ucxl'
import { abortReason, operationSignal, waitAtMost } from './abort.js'
import {
  hasWildcard,
  headKey,
  type ResolvedAddress,
  resolveAddress,
  type UcxlAddress,
  versionKey
} from './address.js'
import { type AuditInput, AuditLog } from './audit.js'
import { type CacheEntry, ContentCache } from './cache.js'
import {
  type DirectRecord,
  fetchRecord,
  MAX_REQUEST_BYTES,
  pushRecords,
  RECORD_PROTOCOL,
  recordHandler
} from './direct.js'
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  type Envelope,
  envelopeHash,
  openEnvelope,
  sha256,
  signEnvelope
} from './envelope.js'
import {
  AccessDeniedError,
  ContentNotFoundError,
  ContentTooLargeError,
  diskError,
  IntegrityError,
  InvalidAddressError,
  InvalidContentTypeError,
  ReadOnlyRoleError,
  StorageError,
  StorageNotStartedError,
  StorageTimeoutError,
  UnknownRoleError,
  WriteQuorumError
} from './errors.js'
import { type IndexRow, type IndexSource, LocalIndex } from './index-db.js'
import { compareEnvelopes, validateChorusRecord } from './records.js'
import type {
  AuditVerification,
  Consistency,
  EncryptedStorage,
  EncryptedStorageComponents,
  EncryptedStorageInit,
  RetrieveOptions,
  RetrieveResult,
  SearchQuery,
  StorageMetrics,
  StoreResult,
  UCXLMetadata
} from './types.js'

const MiB = 1024 * 1024
/** Least time between two read repairs of one address. */
const REPAIR_INTERVAL_MS = 5_000
const CONTENT_TYPE_RE = /^[A-Za-z0-9_.+/-]{1,64}$/
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
const utf8 = new TextEncoder()

/** One verified envelope as received, with every sender that returned exactly these bytes. */
interface Candidate {
  envelope: Envelope
  bytes: Uint8Array
  hash: Uint8Array
  hashHex: string
  from: Set<string>
}

function isNotFound(err: unknown): boolean {
  return (err as { name?: string })?.name === 'NotFoundError'
}

function isAbort(err: unknown): boolean {
  const name = (err as { name?: string })?.name
  return name === 'AbortError' || name === 'TimeoutError'
}

class EncryptedDHTStorage implements EncryptedStorage {
  private readonly dht: Dht
  private readonly messaging?: PeerMessaging
  private readonly components: EncryptedStorageComponents
  private readonly log?: Logger
  private readonly cfg: Required<EncryptedStorageInit>
  private readonly cache: ContentCache
  private index?: LocalIndex
  private audit?: AuditLog
  private shutdown = new AbortController()
  private started = false
  private cleanupTimer?: NodeJS.Timeout
  private readonly background = new Set<Promise<unknown>>()
  private readonly storeLocks = new Map<string, Promise<unknown>>()
  private readonly lastRepair = new Map<string, number>()
  private readonly m = {
    storedItems: 0,
    retrievedItems: 0,
    cacheHits: 0,
    cacheMisses: 0,
    encryptionOps: 0,
    decryptionOps: 0,
    storeTime: 0,
    retrieveTime: 0,
    backpressureWaits: 0,
    errors: {} as Record<string, number>,
    lastUpdate: Date.now()
  }

  constructor(components: EncryptedStorageComponents, init: EncryptedStorageInit) {
    if (typeof init?.dataDir !== 'string' || init.dataDir === '')
      throw new TypeError('init.dataDir is required')
    if (typeof init.nodeId !== 'string' || init.nodeId === '') throw new TypeError('init.nodeId is required')
    for (const c of ['dht', 'crypto', 'roles', 'keyring', 'signer'] as const) {
      if (components?.[c] == null) throw new TypeError(`components.${c} is required`)
    }
    this.components = components
    this.dht = components.dht
    this.log = components.logger
    this.cfg = {
      dataDir: init.dataDir,
      nodeId: init.nodeId,
      cacheTTL: init.cacheTTL ?? 10 * 60_000,
      cacheMaxEntries: init.cacheMaxEntries ?? 1000,
      cacheMaxBytes: init.cacheMaxBytes ?? 64 * MiB,
      maxContentBytes: init.maxContentBytes ?? MiB,
      writeQuorum: init.writeQuorum ?? 3,
      storeTimeout: init.storeTimeout ?? 30_000,
      retrieveTimeout: init.retrieveTimeout ?? 30_000,
      announceTimeout: init.announceTimeout ?? 30_000,
      backgroundTimeout: init.backgroundTimeout ?? 120_000,
      maxBackgroundTasks: Math.max(1, init.maxBackgroundTasks ?? 64),
      announceOnStore: init.announceOnStore ?? false,
      cacheCleanupInterval: init.cacheCleanupInterval ?? 5 * 60_000,
      maxListResults: init.maxListResults ?? 1000,
      retrieveConsistency: init.retrieveConsistency ?? 'closest',
      readRepair: init.readRepair ?? true,
      directReplication: init.directReplication ?? true,
      directReadPeers: init.directReadPeers ?? init.writeQuorum ?? 3,
      directTimeout: init.directTimeout ?? 10_000,
      maxChainWalk: Math.max(1, init.maxChainWalk ?? 64),
      maxSuccessorProbe: Math.max(0, init.maxSuccessorProbe ?? 16),
      successorProbeTimeout: init.successorProbeTimeout ?? 2_000
    }
    const d = components.dht as Partial<PeerMessaging>
    this.messaging =
      components.messaging ??
      (typeof d.handle === 'function' &&
      typeof d.request === 'function' &&
      typeof d.getConnectedPeers === 'function'
        ? (components.dht as unknown as PeerMessaging)
        : undefined)
    this.cache = new ContentCache({
      ttl: this.cfg.cacheTTL,
      maxEntries: this.cfg.cacheMaxEntries,
      maxBytes: this.cfg.cacheMaxBytes
    })
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.started) return
    let index: LocalIndex | undefined
    let audit: AuditLog
    try {
      mkdirSync(this.cfg.dataDir, { recursive: true })
      index = new LocalIndex(join(this.cfg.dataDir, 'storage-index.sqlite'))
      audit = new AuditLog(join(this.cfg.dataDir, 'audit.log'), this.cfg.nodeId, index, this.log)
      await audit.init()
    } catch (err) {
      index?.close()
      throw diskError(err, this.cfg.dataDir, true) ?? err
    }
    if (this.messaging !== undefined) {
      await this.messaging.handle(RECORD_PROTOCOL, recordHandler(this.dht, this.log), {
        maxRequestBytes: MAX_REQUEST_BYTES
      })
    }
    this.index = index
    this.audit = audit
    this.shutdown = new AbortController()
    this.started = true
    if (this.cfg.cacheCleanupInterval > 0) this.startCacheCleanup(this.cfg.cacheCleanupInterval)
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.stopCacheCleanup()
    this.shutdown.abort(new DOMException('encrypted storage is stopping', 'AbortError'))
    await Promise.allSettled([...this.background])
    await this.messaging?.unhandle(RECORD_PROTOCOL).catch(() => undefined)
    await this.audit?.flush()
    this.index?.close()
    this.index = undefined
    this.audit = undefined
    this.cache.clear()
  }

  close(): Promise<void> {
    return this.stop()
  }

  isStarted(): boolean {
    return this.started
  }

  async whenIdle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background])
  }

  private ready(): { index: LocalIndex; audit: AuditLog } {
    if (!this.started || this.index === undefined || this.audit === undefined)
      throw new StorageNotStartedError()
    return { index: this.index, audit: this.audit }
  }

  // ---- store -----------------------------------------------------------------------------

  async storeUCXLContent(
    address: string,
    content: Uint8Array | string,
    creatorRole: string,
    contentType: string,
    options: AbortOptions = {}
  ): Promise<StoreResult> {
    const t0 = performance.now()
    const data = typeof content === 'string' ? utf8.encode(content) : content
    const entry: AuditInput = {
      op: 'store',
      role: String(creatorRole),
      address: String(address),
      contentType: String(contentType),
      size: data instanceof Uint8Array ? data.byteLength : undefined,
      success: false
    }
    return this.audited(entry, { stampUpdate: true }, async () => {
      const r = this.checkStore(address, data, creatorRole, contentType)
      entry.address = r.base
      const result = await this.withStoreLock(r.base, () =>
        this.storeVersion(r, data, creatorRole, contentType, options)
      )
      entry.version = result.version
      this.m.storedItems++
      this.m.storeTime += performance.now() - t0
      return result
    })
  }

  /**
   * Runs one audited operation: its audit entry is appended whatever happens (success, or the
   * mapped error's code and message), and errors are mapped to StorageErrors and counted. Errors
   * name the address as given unless `failOnEntryAddress` (the entry's address, once resolved).
   */
  private async audited<T>(
    entry: AuditInput,
    opts: { stampUpdate?: boolean; failOnEntryAddress?: boolean },
    run: () => Promise<T>
  ): Promise<T> {
    const { audit } = this.ready()
    const input = entry.address
    try {
      const result = await run()
      entry.success = true
      return result
    } catch (err) {
      const mapped = this.fail(err, opts.failOnEntryAddress === true ? entry.address : input, entry.op)
      entry.error = { code: mapped.code, message: mapped.message }
      throw mapped
    } finally {
      if (opts.stampUpdate === true) this.m.lastUpdate = Date.now()
      audit.append(entry)
    }
  }

  private checkStore(
    address: string,
    data: unknown,
    creatorRole: string,
    contentType: string
  ): ResolvedAddress {
    const r = resolveAddress(address)
    if (hasWildcard(r.parsed))
      throw new InvalidAddressError(address, 'a wildcard address cannot be stored to')
    if (r.parsed.temporal.kind !== 'latest') {
      throw new InvalidAddressError(address, 'a store writes the next version: use *^ or no temporal segment')
    }
    if (!(data instanceof Uint8Array)) throw new TypeError('content must be a Uint8Array or a string')
    if (data.byteLength > this.cfg.maxContentBytes) {
      throw new ContentTooLargeError(data.byteLength, this.cfg.maxContentBytes)
    }
    if (typeof contentType !== 'string' || !CONTENT_TYPE_RE.test(contentType)) {
      throw new InvalidContentTypeError(String(contentType))
    }
    const { roles, keyring } = this.components
    if (typeof creatorRole !== 'string' || !roles.has(creatorRole))
      throw new UnknownRoleError(String(creatorRole))
    if (!roles.canStore(creatorRole)) throw new ReadOnlyRoleError(creatorRole)
    if (r.parsed.role !== creatorRole) {
      throw new AccessDeniedError(r.base, `the address belongs to role ${r.parsed.role}, not ${creatorRole}`)
    }
    if (!keyring.holdsRole(creatorRole)) {
      throw new AccessDeniedError(r.base, `this node holds no key of role ${creatorRole}`)
    }
    return r
  }

  private async withStoreLock<T>(base: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.storeLocks.get(base) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    this.storeLocks.set(base, tail)
    try {
      return await run
    } finally {
      if (this.storeLocks.get(base) === tail) this.storeLocks.delete(base)
    }
  }

  /** This node's knowledge of the current head: its index, else its own DHT record store. */
  private async previousVersion(
    r: ResolvedAddress,
    signal: AbortSignal
  ): Promise<{ version: number; hash: Uint8Array; author: Uint8Array } | undefined> {
    const { index } = this.ready()
    const chain = index.getChain(r.base)
    let best: { version: number; hash: Uint8Array; author: Uint8Array } | undefined
    if (chain !== undefined) {
      best = {
        version: chain.highest,
        hash: Buffer.from(chain.highestHash, 'hex'),
        author: Buffer.from(chain.author, 'hex')
      }
    }
    // A record this node holds for the head (replicated to it, or written before its index was
    // lost) that is newer than what the index knows.
    let local: ReceivedValue[] = []
    try {
      local = await this.dht.getValues(headKey(r.digest), { localOnly: true, signal })
    } catch (err) {
      if (!isNotFound(err)) this.log?.debug({ err: (err as Error).message }, 'local head lookup failed')
    }
    for (const c of this.verifyCandidates(headKey(r.digest), local)) {
      if (best === undefined || c.envelope.version > best.version) {
        best = { version: c.envelope.version, hash: c.hash, author: c.envelope.author }
      }
    }
    return best
  }

  private requiredAcks(): number {
    const q = Math.max(0, Math.floor(this.cfg.writeQuorum))
    const dht = this.dht as Partial<{ getConnectedPeers: () => string[] }>
    const peers =
      this.components.peers ??
      (typeof dht.getConnectedPeers === 'function'
        ? { getConnectedPeers: () => dht.getConnectedPeers!() }
        : undefined)
    if (peers === undefined) return q
    try {
      return Math.min(q, peers.getConnectedPeers().length)
    } catch {
      return q
    }
  }

  private async storeVersion(
    r: ResolvedAddress,
    data: Uint8Array,
    creatorRole: string,
    contentType: string,
    options: AbortOptions
  ): Promise<StoreResult> {
    const { index } = this.ready()
    const { crypto, signer } = this.components
    const op = operationSignal(this.cfg.storeTimeout, options.signal, this.shutdown.signal)
    try {
      await this.backgroundRoom(op.signal)
      const prev = await this.previousVersion(r, op.signal)
      if (prev !== undefined && !Buffer.from(prev.author).equals(signer.publicKey)) {
        throw new AccessDeniedError(r.base, 'the address already has versions signed by another node key')
      }
      const ciphertext = await crypto.encryptUCXLContent(data, creatorRole)
      this.m.encryptionOps++
      op.signal.throwIfAborted()
      const { envelope, bytes, hash } = await signEnvelope(
        {
          format: 1,
          address: r.base,
          version: (prev?.version ?? 0) + 1,
          metadata: {
            creatorRole,
            encryptedFor: crypto.decryptableRoles(creatorRole),
            contentType,
            timestamp: Date.now(),
            size: data.byteLength,
            ciphertextHash: sha256(ciphertext)
          },
          ciphertext,
          author: signer.publicKey,
          previous: prev?.hash ?? null
        },
        signer,
        { signal: op.signal }
      )
      if (bytes.byteLength > DEFAULT_MAX_ENVELOPE_BYTES) {
        throw new ContentTooLargeError(data.byteLength, this.cfg.maxContentBytes)
      }
      const required = this.requiredAcks()
      const vkey = versionKey(r.digest, envelope.version)
      const hkey = headKey(r.digest)
      // The direct push to the closest connected peers usually reaches the quorum within a few
      // round trips; the standard kad-dht puts (records on the truly closest peers and in this
      // node's own store) start after it, so they do not compete with it for the event loop.
      // This node's own record store first (readers asking it over the direct protocol find it).
      await Promise.all([
        this.dht.putValue(vkey, bytes, { localOnly: true, signal: op.signal }),
        this.dht.putValue(hkey, bytes, { localOnly: true, signal: op.signal })
      ])
      const direct = await this.pushDirect(
        hkey,
        [
          { key: vkey, value: bytes },
          { key: hkey, value: bytes }
        ],
        required
      )
      // Quorum already met: the kad puts run to completion in the background (whenIdle() waits
      // for them); otherwise they resolve at the quorum and the store waits for that.
      const minAcks = direct.length >= required ? undefined : required
      const kadPuts = [this.put(vkey, bytes, required, minAcks), this.put(hkey, bytes, required, minAcks)]
      for (const p of kadPuts) p.catch(() => undefined)
      let peers = direct
      if (direct.length < required) {
        // Count whatever each path achieved: a kad put that failed still leaves the direct acks.
        const [vres, hres] = await waitAtMost(
          Promise.allSettled(kadPuts),
          this.cfg.storeTimeout,
          `store of ${r.base}`,
          options.signal
        )
        const acked = (x: PromiseSettledResult<PutResult> | undefined): string[] =>
          x?.status === 'fulfilled' ? x.value.acks : []
        const both = acked(vres).filter((p) => acked(hres).includes(p))
        peers = [...new Set([...direct, ...both])]
      }
      const acks = peers.length
      if (acks < required) throw new WriteQuorumError(r.base, acks, required)
      index.add(r.parsed, r.digest, envelope, bytes, hash, 'stored')
      const metadata = this.toMetadata(r.parsed, envelope, hash, peers)
      this.cache.put(r.base, data.slice(), metadata, true)
      if (this.cfg.announceOnStore) {
        this.inBackground('announce after store', (signal) => this.dht.provide(headKey(r.digest), { signal }))
      }
      return { ...metadata, acks }
    } catch (err) {
      if (op.timedOut())
        throw new StorageTimeoutError(`store of ${r.base}`, this.cfg.storeTimeout, { cause: err })
      throw err
    }
  }

  /**
   * Hands the records to the connected peers closest to `key`: the quorum plus two spares at once,
   * the next closest for each one that fails (peers without the protocol, say), up to three times
   * the quorum. Resolves with the peers that stored them once `required` have, or all answered.
   */
  private pushDirect(key: string, records: DirectRecord[], required: number): Promise<string[]> {
    const messaging = this.messaging
    if (messaging === undefined || !this.cfg.directReplication || required === 0) return Promise.resolve([])
    const queue = sortByDistance(key, messaging.getConnectedPeers(), { dropUndecodable: true }).slice(
      0,
      required * 3 + 2
    )
    if (queue.length === 0) return Promise.resolve([])
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.cfg.directTimeout)])
    return new Promise((resolve) => {
      const acked: string[] = []
      let running = 0
      let done = false
      const finish = (): void => {
        if (!done && (acked.length >= required || (running === 0 && queue.length === 0))) {
          done = true
          resolve([...acked])
        }
      }
      const next = (): void => {
        const peer = queue.shift()
        if (peer === undefined) return
        running++
        const p = pushRecords(messaging, peer, records, signal)
          .then((ok) => {
            if (ok) acked.push(peer)
            else if (!done) next()
          })
          .catch((err: unknown) => {
            this.log?.debug({ peer, err: (err as Error).message }, 'direct push failed')
            if (!done) next()
          })
          .finally(() => {
            running--
            finish()
          })
        this.track(p)
      }
      for (let i = 0; i < required + 2; i++) next()
      finish()
    })
  }

  /** Puts one record; resolves at `required` acknowledgements while the rest go on in the background. */
  private async put(key: string, bytes: Uint8Array, required: number, minAcks?: number): Promise<PutResult> {
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.cfg.backgroundTimeout)])
    const p = this.dht.putValue(key, bytes, {
      ...(minAcks !== undefined ? { minAcks: Math.max(1, minAcks) } : {}),
      signal
    })
    this.track(p)
    try {
      return await p
    } catch (err) {
      // With nobody reachable the record is held locally and the quorum (0) is met.
      if (required === 0 && (err as { name?: string }).name === 'NoPeersAcknowledgedError') {
        return { key, acks: [], storedLocally: true }
      }
      throw err
    }
  }

  /** Waits while `maxBackgroundTasks` background operations are in flight (backpressure on stores). */
  private async backgroundRoom(signal: AbortSignal): Promise<void> {
    while (this.background.size >= this.cfg.maxBackgroundTasks) {
      signal.throwIfAborted()
      this.m.backpressureWaits++
      await waitAtMost(Promise.race(this.background), this.cfg.storeTimeout, 'store', signal)
    }
  }

  private track(p: Promise<unknown>): void {
    const settled = p.catch(() => undefined)
    this.background.add(settled)
    void settled.finally(() => this.background.delete(settled))
  }

  private inBackground(what: string, fn: (signal: AbortSignal) => Promise<unknown>): void {
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.cfg.backgroundTimeout)])
    const p = fn(signal).catch((err: unknown) => {
      if (!this.shutdown.signal.aborted) this.log?.debug({ err: (err as Error).message }, `${what} failed`)
    })
    this.track(p)
  }

  // ---- retrieve --------------------------------------------------------------------------

  async retrieveUCXLContent(address: string, options: RetrieveOptions = {}): Promise<RetrieveResult> {
    const t0 = performance.now()
    const entry: AuditInput = { op: 'retrieve', address: String(address), success: false }
    return this.audited(entry, { stampUpdate: true }, async () => {
      const r = this.resolveContentAddress(address, entry)
      const result = await this.retrieve(r, options)
      entry.version = result.metadata.version
      entry.role = result.metadata.creatorRole
      entry.contentType = result.metadata.contentType
      entry.size = result.metadata.size
      this.m.retrievedItems++
      this.m.retrieveTime += performance.now() - t0
      return result
    })
  }

  private fromCache(key: string): RetrieveResult | undefined {
    const hit = this.cache.get(key)
    if (hit === undefined) return undefined
    this.m.cacheHits++
    return { content: hit.content.slice(), metadata: hit.metadata, source: 'cache' }
  }

  private async retrieve(r: ResolvedAddress, options: RetrieveOptions): Promise<RetrieveResult> {
    const t = r.parsed.temporal
    if (t.kind === 'latest') {
      const hit = this.fromCache(ContentCache.latestKey(r.base))
      if (hit !== undefined) return hit
    }
    let version: number
    switch (t.kind) {
      case 'first':
        version = 1
        break
      case 'version':
        version = t.n
        break
      case 'forward': {
        const from = options.from ?? 1
        if (!Number.isSafeInteger(from) || from < 1) {
          throw new InvalidAddressError(r.base, 'options.from must be a version number >= 1')
        }
        version = from + t.n
        break
      }
      case 'back': {
        const latest = this.cache.get(ContentCache.latestKey(r.base))?.metadata.version
        version =
          (latest ?? (await this.withRetrieveSignal(r, options, (s) => this.latest(r, s))).envelope.version) -
          t.n
        break
      }
      case 'latest': {
        this.m.cacheMisses++
        const c = await this.withRetrieveSignal(r, options, (s) =>
          this.resolveLatest(r, options.consistency, s)
        )
        return this.open(r, c)
      }
    }
    if (version < 1) throw new ContentNotFoundError(r.base, `version ${version} does not exist`)
    const hit = this.fromCache(ContentCache.versionKey(r.base, version))
    if (hit !== undefined) return hit
    this.m.cacheMisses++
    const c = await this.withRetrieveSignal(r, options, (s) => this.version(r, version, s))
    return this.open(r, c)
  }

  private async withRetrieveSignal<T>(
    r: ResolvedAddress,
    options: AbortOptions,
    fn: (signal: AbortSignal) => Promise<T>
  ): Promise<T> {
    const op = operationSignal(this.cfg.retrieveTimeout, options.signal, this.shutdown.signal)
    try {
      return await fn(op.signal)
    } catch (err) {
      if (op.timedOut()) {
        throw new StorageTimeoutError(`retrieve of ${r.base}`, this.cfg.retrieveTimeout, { cause: err })
      }
      if (options.signal?.aborted === true && isAbort(err)) throw abortReason(options.signal)
      throw err
    }
  }

  /** Every valid, distinct envelope among the values received for `key`, with their senders. */
  private verifyCandidates(key: string, values: ReceivedValue[]): Candidate[] {
    const byHash = new Map<string, Candidate>()
    for (const { value, from } of values) {
      const hash = envelopeHash(value)
      const hashHex = hex(hash)
      const known = byHash.get(hashHex)
      if (known !== undefined) {
        known.from.add(from)
        continue
      }
      try {
        const envelope = validateChorusRecord(key, value)
        byHash.set(hashHex, { envelope, bytes: value, hash, hashHex, from: new Set([from]) })
      } catch (err) {
        this.log?.warn({ key, from, reason: (err as Error).message }, 'refused an invalid record from a peer')
      }
    }
    return [...byHash.values()]
  }

  private async fetch(key: string, signal: AbortSignal): Promise<ReceivedValue[]> {
    try {
      return await this.dht.getValues(key, { signal })
    } catch (err) {
      if (isNotFound(err)) return []
      throw err
    }
  }

  /**
   * Keeps the candidates that fit what this node knows of the address: the pinned author, and
   * the hashes of versions it already holds (a version with different bytes is a fork; the
   * successor must name its predecessor's hash). Without a pin, the author whose records the
   * most distinct peers returned wins (a single lying peer cannot outvote the replicas).
   */
  private consistent(r: ResolvedAddress, candidates: Candidate[]): Candidate[] {
    const { index } = this.ready()
    const chain = index.getChain(r.base)
    let pool = candidates.filter((c) => this.fitsIndex(r, c))
    if (chain !== undefined) {
      pool = pool.filter((c) => hex(c.envelope.author) === chain.author)
    } else if (pool.length > 1) {
      const support = new Map<string, Set<string>>()
      for (const c of pool) {
        const a = hex(c.envelope.author)
        const s = support.get(a) ?? new Set<string>()
        for (const f of c.from) s.add(f)
        support.set(a, s)
      }
      const ranked = [...support.entries()].sort((x, y) => y[1].size - x[1].size)
      const top = ranked[0]
      const second = ranked[1]
      if (top !== undefined && (second === undefined || top[1].size > second[1].size)) {
        pool = pool.filter((c) => hex(c.envelope.author) === top[0])
      }
    }
    return pool
  }

  /** Whether a candidate fits the versions this node holds (same bytes per version, hash links). */
  private fitsIndex(r: ResolvedAddress, c: Candidate): boolean {
    const { index } = this.ready()
    const same = index.getVersion(r.base, c.envelope.version)
    if (same !== undefined && same.envelope_hash !== c.hashHex) return false
    if (c.envelope.version > 1 && c.envelope.previous !== null) {
      const before = index.getVersion(r.base, c.envelope.version - 1)
      if (before !== undefined && before.envelope_hash !== hex(c.envelope.previous)) return false
    }
    const after = index.getVersion(r.base, c.envelope.version + 1)
    if (after !== undefined && after.previous !== c.hashHex) return false
    return true
  }

  /**
   * The best candidate whose chain verifies (`verifyChain`): the preferred author's first (see
   * `consistent`), then, when this node has no chain pinned, the others; for a read of the latest,
   * the genuine predecessor of a forged successor is tried in its place. With `'probe'`, the chosen
   * version is then carried
   * forward along valid same-author successors at the version keys (`forward`): heads may all have
   * been rolled back. The first probe runs concurrently with the chain check.
   */
  private async pickVerified(
    r: ResolvedAddress,
    candidates: Candidate[],
    signal: AbortSignal,
    mode: 'version' | 'latest' | 'probe' = 'version'
  ): Promise<Candidate | undefined> {
    const probe = mode === 'probe'
    const { index } = this.ready()
    const queue = this.consistent(r, candidates).sort(compareEnvelopes)
    if (index.getChain(r.base) === undefined) {
      const rest = candidates.filter((c) => !queue.includes(c) && this.fitsIndex(r, c))
      queue.push(...rest.sort(compareEnvelopes))
    }
    const tried = new Set<string>()
    for (let i = 0; i < queue.length && tried.size < 8; i++) {
      const c = queue[i] as Candidate
      if (tried.has(c.hashHex)) continue
      tried.add(c.hashHex)
      const [v, next] = await Promise.all([
        this.verifyChain(r, c, signal),
        probe ? this.successorOf(r, c, signal) : Promise.resolve(undefined)
      ])
      if (v.ok) return probe ? this.forward(r, c, next, signal) : c
      this.log?.warn(
        { address: r.base, version: c.envelope.version, reason: v.reason },
        'refused a version whose chain does not verify'
      )
      const p = v.predecessor
      // a read of the latest falls back to the genuine predecessor; a read of version n does not
      if (mode !== 'version' && p !== undefined && !tried.has(p.hashHex) && this.fitsIndex(r, p))
        queue.splice(i + 1, 0, p)
    }
    return undefined
  }

  /**
   * Checks that `c` chains to a version this node trusts, or to version 1: each predecessor (from
   * the index, the local store, the closest peers, else the network) must have the hash `previous`
   * names and the same author. At most `maxChainWalk` predecessors are fetched; past that, version
   * 1 must have the same author (honest writers never chain to another author's versions).
   * Verified links are remembered, so the next walk stops early.
   */
  private async verifyChain(
    r: ResolvedAddress,
    c: Candidate,
    signal: AbortSignal
  ): Promise<{ ok: boolean; reason?: string; predecessor?: Candidate }> {
    const { index } = this.ready()
    const author = hex(c.envelope.author)
    const walked: { version: number; hash: string }[] = []
    let cur = c
    for (let steps = 0; ; steps++) {
      const v = cur.envelope.version
      const trusted = index.getTrusted(r.base, v)
      if (trusted !== undefined) {
        if (trusted.hash !== cur.hashHex || trusted.author !== author) {
          return { ok: false, reason: `version ${v} differs from the one this node trusts` }
        }
        break
      }
      walked.push({ version: v, hash: cur.hashHex })
      if (v === 1) {
        if (cur.envelope.previous !== null) return { ok: false, reason: 'version 1 names a predecessor' }
        break
      }
      if (cur.envelope.previous === null) return { ok: false, reason: `version ${v} names no predecessor` }
      if (steps >= this.cfg.maxChainWalk) {
        const firsts = await this.versionCandidates(r, 1, signal, false)
        if (!firsts.some((f) => hex(f.envelope.author) === author)) {
          return {
            ok: false,
            reason: `version 1 is not signed by the author of version ${c.envelope.version}`
          }
        }
        break
      }
      const want = hex(cur.envelope.previous)
      const before = (await this.versionCandidates(r, v - 1, signal, false)).find((p) => p.hashHex === want)
      if (before === undefined) {
        return { ok: false, reason: `version ${v - 1}, which version ${v} names, was not found` }
      }
      if (hex(before.envelope.author) !== author) {
        return {
          ok: false,
          predecessor: before,
          reason: `version ${v} is signed by another author than version ${v - 1}`
        }
      }
      cur = before
    }
    for (const w of walked) index.addLink(r.base, w.version, w.hash, author)
    return { ok: true }
  }

  /**
   * The values this node's own record store and `peers` (over the direct record protocol, within
   * `directTimeout`) hold for `key`, each with who sent it; a peer that fails or has none adds
   * nothing.
   */
  private async askOwnAndPeers(
    key: string,
    messaging: PeerMessaging | undefined,
    peers: string[],
    signal: AbortSignal
  ): Promise<ReceivedValue[]> {
    const ask = AbortSignal.any([signal, AbortSignal.timeout(this.cfg.directTimeout)])
    const [local, ...answers] = await Promise.allSettled([
      this.dht.getValues(key, { localOnly: true, signal }),
      ...(messaging === undefined ? [] : peers.map((p) => fetchRecord(messaging, p, key, ask)))
    ])
    signal.throwIfAborted()
    const values: ReceivedValue[] = local?.status === 'fulfilled' ? [...local.value] : []
    answers.forEach((a, i) => {
      const from = peers[i]
      if (a.status === 'fulfilled' && a.value !== undefined && from !== undefined)
        values.push({ value: a.value, from })
    })
    return values
  }

  /**
   * The verified copies of version n: the index, else this node's record store and the connected
   * peers closest to the head key (where stores push every version), else (unless `quick`) a full
   * query.
   */
  private async versionCandidates(
    r: ResolvedAddress,
    n: number,
    signal: AbortSignal,
    quick: boolean
  ): Promise<Candidate[]> {
    const own = this.local(r, n)
    if (own !== undefined) return [own]
    const key = versionKey(r.digest, n)
    const messaging = this.messaging
    const peers =
      messaging === undefined
        ? []
        : sortByDistance(headKey(r.digest), messaging.getConnectedPeers(), { dropUndecodable: true }).slice(
            0,
            this.cfg.directReadPeers
          )
    let found = this.verifyCandidates(key, await this.askOwnAndPeers(key, messaging, peers, signal))
    if (found.length === 0 && (!quick || messaging === undefined)) {
      found = this.verifyCandidates(key, await this.fetch(key, signal))
    }
    return found
  }

  /** A valid successor of `c` at `/v/<n+1>`: same author, names c's hash; looked for briefly. */
  private async successorOf(
    r: ResolvedAddress,
    c: Candidate,
    signal: AbortSignal
  ): Promise<Candidate | undefined> {
    if (this.cfg.maxSuccessorProbe === 0) return undefined
    const probe = AbortSignal.any([signal, AbortSignal.timeout(this.cfg.successorProbeTimeout)])
    let found: Candidate[]
    try {
      found = await this.versionCandidates(r, c.envelope.version + 1, probe, true)
    } catch (err) {
      signal.throwIfAborted()
      this.log?.debug({ address: r.base, err: (err as Error).message }, 'successor probe ended early')
      return undefined
    }
    return found.find(
      (s) =>
        s.envelope.previous !== null &&
        hex(s.envelope.previous) === c.hashHex &&
        Buffer.from(s.envelope.author).equals(c.envelope.author) &&
        this.fitsIndex(r, s)
    )
  }

  /** Follows verified successors from `c` (at most `maxSuccessorProbe`), remembering each link. */
  private async forward(
    r: ResolvedAddress,
    c: Candidate,
    next: Candidate | undefined,
    signal: AbortSignal
  ): Promise<Candidate> {
    const { index } = this.ready()
    let cur = c
    for (let i = 0; next !== undefined && i < this.cfg.maxSuccessorProbe; i++) {
      index.addLink(r.base, next.envelope.version, next.hashHex, hex(next.envelope.author))
      cur = next
      next = i + 1 < this.cfg.maxSuccessorProbe ? await this.successorOf(r, cur, signal) : undefined
    }
    if (cur !== c) {
      this.log?.info(
        { address: r.base, head: c.envelope.version, found: cur.envelope.version },
        'the head records were behind the version keys: newer version found'
      )
    }
    return cur
  }

  /** A version this node holds in its index, re-verified. */
  private local(r: ResolvedAddress, version: number): Candidate | undefined {
    const { index } = this.ready()
    const bytes = index.getEnvelope(r.base, version)
    if (bytes === undefined) return undefined
    const key = versionKey(r.digest, version)
    const [c] = this.verifyCandidates(key, [{ value: new Uint8Array(bytes), from: 'self' }])
    return c
  }

  private resolveLatest(
    r: ResolvedAddress,
    consistency: Consistency | undefined,
    signal: AbortSignal
  ): Promise<Candidate> {
    switch (consistency ?? this.cfg.retrieveConsistency) {
      case 'local-first':
        return this.latestLocalFirst(r, signal)
      case 'closest':
        return this.messaging === undefined
          ? this.latest(r, signal)
          : this.latestClosest(r, this.messaging, signal)
      default:
        return this.latest(r, signal)
    }
  }

  /**
   * The newest version among this node's own copy and the answers of the connected peers closest
   * to the key (where stores put their quorum). Falls back to the full query when nobody has it;
   * refreshes with one in the background when the answers were incomplete or disagreed.
   */
  private async latestClosest(
    r: ResolvedAddress,
    messaging: PeerMessaging,
    signal: AbortSignal
  ): Promise<Candidate> {
    const { index } = this.ready()
    const key = headKey(r.digest)
    const peers = sortByDistance(key, messaging.getConnectedPeers(), { dropUndecodable: true }).slice(
      0,
      this.cfg.directReadPeers
    )
    const all = this.verifyCandidates(key, await this.askOwnAndPeers(key, messaging, peers, signal))
    const candidates = this.consistent(r, all)
    let best = await this.pickVerified(r, all, signal, 'probe')
    if (best === undefined) {
      this.log?.debug({ address: r.base, asked: peers.length }, 'no close peer holds the head: full query')
      return this.latest(r, signal)
    }
    const chain = index.getChain(r.base)
    if (chain !== undefined && best.envelope.version < chain.highest) {
      best = this.local(r, chain.highest) ?? (await this.latest(r, signal))
    }
    const agreeing = candidates.filter((c) => c.envelope.version === best.envelope.version)
    const support = new Set(agreeing.flatMap((c) => [...c.from])).size
    if (candidates.some((c) => c.envelope.version < best.envelope.version)) this.repair(r, best)
    if (support < Math.min(peers.length, this.cfg.directReadPeers)) {
      this.log?.debug(
        { address: r.base, support, asked: peers.length },
        'close peers disagree: background refresh'
      )
      this.inBackground('refresh of the head', async (s) => {
        const fresh = await this.latest(r, s)
        if (fresh.envelope.version > (index.getChain(r.base)?.highest ?? 0)) {
          index.add(r.parsed, r.digest, fresh.envelope, fresh.bytes, fresh.hash, 'retrieved')
          this.cache.invalidate(r.base)
        }
      })
    }
    return best
  }

  /** The newest version: what peers answer for the head key, never below what this node has seen. */
  private async latest(r: ResolvedAddress, signal: AbortSignal): Promise<Candidate> {
    const { index } = this.ready()
    const key = headKey(r.digest)
    const all = this.verifyCandidates(key, await this.fetch(key, signal))
    const candidates = this.consistent(r, all)
    const best = await this.pickVerified(r, all, signal, 'probe')
    const chain = index.getChain(r.base)
    if (chain !== undefined && (best === undefined || best.envelope.version < chain.highest)) {
      // Peers offer nothing newer than what this node has seen: never roll back.
      const own =
        this.local(r, chain.highest) ?? (await this.version(r, chain.highest, signal).catch(() => undefined))
      if (own === undefined) {
        throw new IntegrityError(
          r.base,
          `peers offer version ${best?.envelope.version ?? 'none'} but version ${chain.highest} was seen before`
        )
      }
      this.repair(r, own)
      return own
    }
    if (best === undefined) {
      if (all.length > 0) {
        throw new IntegrityError(r.base, 'no copy of the head chains to its predecessors by the same author')
      }
      throw new ContentNotFoundError(r.base)
    }
    if (candidates.some((c) => c.envelope.version < best.envelope.version)) this.repair(r, best)
    return best
  }

  /**
   * Read repair: some peers hold an older head (missed an update, or were fed a replayed old
   * record, which kad-dht servers accept): put the newest back, in the background; one repair
   * per address at a time and at most one every `REPAIR_INTERVAL_MS`.
   */
  private repair(r: ResolvedAddress, c: Candidate): void {
    if (!this.cfg.readRepair) return
    const now = Date.now()
    const last = this.lastRepair.get(r.base)
    if (last !== undefined && last > now - REPAIR_INTERVAL_MS) return
    if (this.lastRepair.size > 10_000) this.lastRepair.clear()
    this.lastRepair.set(r.base, Number.POSITIVE_INFINITY) // in flight
    this.inBackground('read repair', async (signal) => {
      try {
        await this.dht.putValue(headKey(r.digest), c.bytes, { signal })
      } finally {
        this.lastRepair.set(r.base, Date.now())
      }
    })
  }

  /**
   * The newest version this node holds (index or its own DHT record store) when there is one,
   * refreshed from the network in the background; the network otherwise.
   */
  private async latestLocalFirst(r: ResolvedAddress, signal: AbortSignal): Promise<Candidate> {
    const { index } = this.ready()
    const key = headKey(r.digest)
    let local: ReceivedValue[] = []
    try {
      local = await this.dht.getValues(key, { localOnly: true, signal })
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    const chain = index.getChain(r.base)
    let best = await this.pickVerified(r, this.verifyCandidates(key, local), signal, 'latest')
    if (chain !== undefined && (best === undefined || best.envelope.version < chain.highest)) {
      best = this.local(r, chain.highest) ?? best
    }
    if (best === undefined) return this.latest(r, signal)
    this.inBackground('refresh of the head', async (s) => {
      const fresh = await this.latest(r, s)
      if (fresh.envelope.version > (index.getChain(r.base)?.highest ?? 0)) {
        index.add(r.parsed, r.digest, fresh.envelope, fresh.bytes, fresh.hash, 'retrieved')
        this.cache.invalidate(r.base)
      }
    })
    return best
  }

  /** Version n: from the index or the local record store when held (immutable), else the network. */
  private async version(r: ResolvedAddress, n: number, signal: AbortSignal): Promise<Candidate> {
    const own = this.local(r, n)
    if (own !== undefined) return own
    const key = versionKey(r.digest, n)
    let local: ReceivedValue[] = []
    try {
      local = await this.dht.getValues(key, { localOnly: true, signal })
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    const held = await this.pickVerified(r, this.verifyCandidates(key, local), signal)
    if (held !== undefined) return held
    const fetched = this.verifyCandidates(key, await this.fetch(key, signal))
    const best = await this.pickVerified(r, fetched, signal)
    if (best === undefined) {
      if (fetched.length > 0) {
        throw new IntegrityError(
          r.base,
          `no copy of version ${n} chains to its predecessors by the same author`
        )
      }
      throw new ContentNotFoundError(r.base, `version ${n} was not found`)
    }
    return best
  }

  /** Decrypts a verified candidate, then indexes and caches it. */
  private async open(r: ResolvedAddress, c: Candidate): Promise<RetrieveResult> {
    const { index } = this.ready()
    const e = c.envelope
    let plaintext: Uint8Array
    try {
      this.m.decryptionOps++
      ;({ plaintext } = await this.components.crypto.decryptWithRole(e.ciphertext))
    } catch (err) {
      this.cache.invalidate(r.base)
      throw err
    }
    if (plaintext.byteLength !== e.metadata.size) {
      this.cache.invalidate(r.base)
      throw new IntegrityError(r.base, 'decrypted size differs from the signed size')
    }
    const source: RetrieveResult['source'] = c.from.has('self') && c.from.size === 1 ? 'local' : 'network'
    index.add(r.parsed, r.digest, e, c.bytes, c.hash, 'retrieved')
    const highest = index.getChain(r.base)?.highest ?? e.version
    const peers = [...c.from].filter((f) => f !== 'self')
    const metadata = this.toMetadata(r.parsed, e, c.hash, peers)
    const entry: CacheEntry = this.cache.put(r.base, plaintext, metadata, e.version >= highest)
    return { content: entry.content.slice(), metadata, source }
  }

  // ---- discovery -------------------------------------------------------------------------

  async announceContent(address: string, options: AbortOptions = {}): Promise<void> {
    const entry: AuditInput = { op: 'announce', address: String(address), success: false }
    await this.audited(entry, {}, async () => {
      const r = this.resolveContentAddress(address, entry)
      await this.withTimeout('announce', r, options, (signal) =>
        this.dht.provide(headKey(r.digest), { signal })
      )
    })
  }

  async discoverContentPeers(address: string, options: AbortOptions = {}): Promise<string[]> {
    const entry: AuditInput = { op: 'discover', address: String(address), success: false }
    return this.audited(entry, {}, async () => {
      const r = this.resolveContentAddress(address, entry)
      const providers = await this.withTimeout('discover', r, options, async (signal) => {
        try {
          return await this.dht.findProviders(headKey(r.digest), { signal })
        } catch (err) {
          if (isNotFound(err)) return []
          throw err
        }
      })
      return [...new Set(providers.map((p) => p.id))]
    })
  }

  /** The address of one piece of content (no wildcard), recorded in the audit entry once resolved. */
  private resolveContentAddress(address: string, entry: AuditInput): ResolvedAddress {
    const r = resolveAddress(address)
    entry.address = r.base
    if (hasWildcard(r.parsed)) throw new InvalidAddressError(address, 'a wildcard address names no content')
    return r
  }

  private async withTimeout<T>(
    what: string,
    r: ResolvedAddress,
    options: AbortOptions,
    fn: (signal: AbortSignal) => Promise<T>
  ): Promise<T> {
    const op = operationSignal(this.cfg.announceTimeout, options.signal, this.shutdown.signal)
    try {
      return await fn(op.signal)
    } catch (err) {
      if (op.timedOut())
        throw new StorageTimeoutError(`${what} of ${r.base}`, this.cfg.announceTimeout, { cause: err })
      throw err
    }
  }

  // ---- index -----------------------------------------------------------------------------

  async listContentByRole(role: string, limit = 100): Promise<UCXLMetadata[]> {
    const { index } = this.ready()
    const n = Math.min(Math.max(0, Math.floor(limit)), this.cfg.maxListResults)
    return index.query({ creatorRole: role, allVersions: false }, n).map((row) => this.rowToMetadata(row))
  }

  async searchContent(query: SearchQuery = {}): Promise<UCXLMetadata[]> {
    const { index } = this.ready()
    const n = Math.min(Math.max(0, Math.floor(query.limit ?? 100)), this.cfg.maxListResults)
    const time = (v: Date | number | undefined): number | undefined =>
      v === undefined ? undefined : v instanceof Date ? v.getTime() : v
    let accept: ((row: IndexRow) => boolean) | undefined
    const pattern = query.address
    if (pattern !== undefined) {
      try {
        matchesAddress(pattern, 'ucxl://a:b@c:d/*^')
      } catch (err) {
        throw new InvalidAddressError(pattern, (err as Error).message, { cause: err })
      }
      accept = (row) => matchesAddress(pattern, row.address)
    }
    return index
      .query(
        {
          agent: query.agent,
          role: query.role,
          project: query.project,
          task: query.task,
          contentType: query.contentType,
          createdAfter: time(query.createdAfter),
          createdBefore: time(query.createdBefore),
          allVersions: query.allVersions ?? false
        },
        n,
        accept
      )
      .map((row) => this.rowToMetadata(row))
  }

  async indexEnvelope(bytes: Uint8Array, source: IndexSource = 'replicated'): Promise<UCXLMetadata> {
    const { index } = this.ready()
    const entry: AuditInput = { op: 'index', address: '(unknown)', success: false }
    // The address is known only once the envelope opens, so errors name the entry's address.
    return this.audited(entry, { failOnEntryAddress: true }, async () => {
      let e: Envelope
      try {
        e = openEnvelope(bytes)
      } catch (err) {
        throw new IntegrityError('(envelope)', (err as Error).message, { cause: err })
      }
      const r = resolveAddress(e.address)
      entry.address = r.base
      entry.version = e.version
      entry.role = e.metadata.creatorRole
      entry.size = e.metadata.size
      const hash = envelopeHash(bytes)
      const c: Candidate = { envelope: e, bytes, hash, hashHex: hex(hash), from: new Set(['self']) }
      const chain = index.getChain(r.base)
      if (chain !== undefined && chain.author !== hex(e.author)) {
        throw new IntegrityError(r.base, 'signed by another author than the versions this node holds')
      }
      if (this.consistent(r, [c]).length === 0) {
        throw new IntegrityError(r.base, `version ${e.version} conflicts with the chain this node holds`)
      }
      index.add(r.parsed, r.digest, e, bytes, hash, source)
      return this.toMetadata(r.parsed, e, hash, [])
    })
  }

  localVersion(address: string): number | undefined {
    const { index } = this.ready()
    return index.getChain(resolveAddress(address).base)?.highest
  }

  // ---- cache, metrics, audit ---------------------------------------------------------------

  startCacheCleanup(intervalMs = 5 * 60_000): void {
    this.stopCacheCleanup()
    this.cleanupTimer = setInterval(() => {
      const n = this.cleanupCache()
      if (n > 0) this.log?.debug({ expired: n }, 'cleaned up expired cache entries')
    }, intervalMs)
    this.cleanupTimer.unref()
  }

  stopCacheCleanup(): void {
    if (this.cleanupTimer !== undefined) clearInterval(this.cleanupTimer)
    this.cleanupTimer = undefined
  }

  cleanupCache(): number {
    return this.cache.cleanup()
  }

  invalidateCache(address: string): void {
    this.cache.invalidate(resolveAddress(address).base)
  }

  getMetrics(): StorageMetrics {
    const m = this.m
    return {
      storedItems: m.storedItems,
      retrievedItems: m.retrievedItems,
      cacheHits: m.cacheHits,
      cacheMisses: m.cacheMisses,
      encryptionOps: m.encryptionOps,
      decryptionOps: m.decryptionOps,
      averageStoreTime: m.storedItems === 0 ? 0 : m.storeTime / m.storedItems,
      averageRetrieveTime: m.retrievedItems === 0 ? 0 : m.retrieveTime / m.retrievedItems,
      errors: { ...m.errors },
      backgroundTasks: this.background.size,
      backpressureWaits: m.backpressureWaits,
      cacheSize: this.cache.size,
      cacheBytes: this.cache.bytes,
      indexedVersions: this.index?.count() ?? 0,
      lastUpdate: m.lastUpdate
    }
  }

  async verifyAuditLog(): Promise<AuditVerification> {
    return this.ready().audit.verify()
  }

  // ---- helpers -----------------------------------------------------------------------------

  private toMetadata(parsed: UcxlAddress, e: Envelope, hash: Uint8Array, peers: string[]): UCXLMetadata {
    return {
      address: formatAddress({ ...parsed, temporal: { kind: 'version', n: e.version } }),
      baseAddress: e.address,
      version: e.version,
      creatorRole: e.metadata.creatorRole,
      encryptedFor: [...e.metadata.encryptedFor],
      contentType: e.metadata.contentType,
      timestamp: e.metadata.timestamp,
      size: e.metadata.size,
      hash: hex(e.metadata.ciphertextHash),
      envelopeHash: hex(hash),
      previous: e.previous === null ? null : hex(e.previous),
      author: hex(e.author),
      dhtPeers: peers,
      replicationFactor: this.cfg.writeQuorum
    }
  }

  private rowToMetadata(row: IndexRow): UCXLMetadata {
    const parsed: UcxlAddress = {
      agent: row.agent,
      role: row.role,
      project: row.project,
      task: row.task,
      path: row.path,
      temporal: { kind: 'version', n: Number(row.version) }
    }
    return {
      address: formatAddress(parsed),
      baseAddress: row.address,
      version: Number(row.version),
      creatorRole: row.creator_role,
      encryptedFor: JSON.parse(row.encrypted_for) as string[],
      contentType: row.content_type,
      timestamp: Number(row.timestamp),
      size: Number(row.size),
      hash: row.ciphertext_hash,
      envelopeHash: row.envelope_hash,
      previous: row.previous,
      author: row.author,
      dhtPeers: [],
      replicationFactor: this.cfg.writeQuorum
    }
  }

  /** Maps any failure to this package's typed errors and counts it. Messages carry no secrets. */
  private fail(err: unknown, address: string, op: string): StorageError {
    const mapped = this.mapError(err, address)
    this.m.errors[mapped.code] = (this.m.errors[mapped.code] ?? 0) + 1
    this.log?.debug({ op, address, code: mapped.code }, mapped.message)
    return mapped
  }

  private mapError(err: unknown, address: string): StorageError {
    if (err instanceof StorageError) {
      if (err instanceof IntegrityError) this.invalidateQuietly(address)
      return err
    }
    const e = err as { name?: string; code?: string; message?: string }
    switch (e?.code) {
      case 'CRYPTO_ACCESS_DENIED':
        return new AccessDeniedError(address, 'no role key held by this node opens the content', {
          cause: err
        })
      case 'CRYPTO_INTEGRITY':
        this.invalidateQuietly(address)
        return new IntegrityError(address, 'the ciphertext does not decrypt', { cause: err })
      case 'CRYPTO_NO_RECIPIENT':
        return new StorageError(e.message ?? 'no recipient key', 'UCXL-500-MISSING_RECIPIENT', { cause: err })
      case 'CRYPTO_UNKNOWN_ROLE':
        return new UnknownRoleError(String((err as { role?: string }).role ?? 'unknown'), { cause: err })
      case 'DHT_TIMEOUT':
        return new StorageTimeoutError(`DHT operation on ${address}`, 0, { cause: err })
      case 'DHT_NO_ACKS':
        return new WriteQuorumError(address, 0, Math.max(1, this.requiredAcks()), { cause: err })
      case 'DHT_NOT_FOUND':
        return new ContentNotFoundError(address, undefined, { cause: err })
      case 'DHT_INVALID_RECORD':
        return new IntegrityError(address, e.message ?? 'record refused', { cause: err })
    }
    if (e?.name === 'UcxlAddressError')
      return new InvalidAddressError(address, e.message ?? '', { cause: err })
    if (e?.name === 'AbortError' || e?.name === 'TimeoutError') {
      const out = new StorageError(e.message ?? 'aborted', 'UCXL-499-ABORTED', { cause: err })
      out.name = 'AbortError'
      return out
    }
    const disk = diskError(err, this.cfg.dataDir)
    if (disk !== undefined) return disk
    if (err instanceof TypeError) return new StorageError(err.message, 'UCXL-400-BAD_REQUEST', { cause: err })
    return new StorageError((err as Error)?.message ?? String(err), 'UCXL-500-INTERNAL', { cause: err })
  }

  private invalidateQuietly(address: string): void {
    try {
      this.cache.invalidate(resolveAddress(address).base)
    } catch {
      // not an address: nothing cached under it
    }
  }
}

/**
 * Creates the encrypted storage. Call `start()` before use and `stop()` when done.
 *
 * ```ts
 * const storage = createEncryptedStorage(
 *   { dht, crypto, roles, keyring, signer: dht.signer, logger },
 *   { dataDir: '/var/lib/chorus/storage', nodeId: dht.peerId }
 * )
 * await storage.start()
 * ```
 */
export function createEncryptedStorage(
  components: EncryptedStorageComponents,
  init: EncryptedStorageInit
): EncryptedStorage {
  return new EncryptedDHTStorage(components, init)
}
