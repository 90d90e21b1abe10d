/**
 * The replication manager: tracks which nodes hold each record, reports replication health, and
 * keeps every held record on `replicationFactor` live nodes by pushing it to the closest
 * reachable non-holders over `/CHORUS/replicate/1.0.0`. Background work (repair, reprovide,
 * republish) runs through two priority queues: repairs (pushes) bounded by
 * `maxConcurrentReplications`, and DHT announcements (provide, republish) one at a time and only
 * while no repair waits, so a slow announcement query never holds back a repair.
 */
import {
  type AbortOptions,
  type Dht,
  keyPeerDistance,
  type Logger,
  log2Distance,
  type PeerMessaging,
  type RecordSelector,
  type RecordValidator,
  sortByDistance
} from '@chorus/dht'
import PQueue from 'p-queue'
import type {
  AddContentOptions,
  RepairResult,
  ReplicationComponents,
  ReplicationEvents,
  ReplicationInit,
  ReplicationManager,
  StatusOptions
} from './api.js'
import { defaultReplicationConfig, type ReplicationConfig } from './config.js'
import {
  InvalidArgumentError,
  ProtocolError,
  type RefusalCode,
  ReplicationNotStartedError,
  ReplicationRefusedError,
  UnknownContentError,
  ValueUnavailableError
} from './errors.js'
import { PeerLiveness } from './liveness.js'
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  REPLICATE_PROTOCOL_SUFFIX,
  REQUEST_OVERHEAD_BYTES,
  type ReplicateResponse
} from './protocol.js'
import { type ContentRow, ReplicationStore } from './store.js'
import { backoffDelay, timeoutSignal, withJitter } from './timing.js'
import type { ProviderInfo, ReplicationHealth, ReplicationMetrics, ReplicationStatus } from './types.js'
import { checkKey, errorMessage, sameBytes } from './util.js'

/** In-memory schedule of a managed key, next to its persisted row. */
interface Entry extends ContentRow {
  nextProvideAt: number
  nextRepublishAt: number
  /** Set while a non-closest holder waits for closer holders to repair first. */
  deferredUntil: number | undefined
  provideFailures: number
  republishFailures: number
  /**
   * Set by `addContent` when the value is new or changed: the next repair pushes it to the known
   * live holders (so they get the new version) and to the closest peers, without a provider lookup.
   */
  fresh: boolean
  /**
   * Known holders that disconnected since the last check: a record that lost more of them is
   * closer to being lost, so its repair goes first.
   */
  departed?: number
}

type Listener = Parameters<EventTarget['addEventListener']>[1]
type JobKind = 'repair' | 'provide' | 'republish'
const JOB_RANK: Record<JobKind, number> = { repair: 2, provide: 1, republish: 0 }

const noop = (): void => {}
const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
const textEncoder = new TextEncoder()
const SELF = 'self'

function checkConfig(c: ReplicationConfig): void {
  const positive: Array<keyof ReplicationConfig> = [
    'reprovideInterval',
    'cleanupInterval',
    'providerTTL',
    'republishInterval',
    'repairInterval',
    'repairBackoffMin',
    'repairBackoffMax',
    'livenessTTL',
    'requestTimeout',
    'maxRecordBytes'
  ]
  for (const f of positive) {
    const v = c[f]
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new InvalidArgumentError(f, `must be a positive number, got ${String(v)}`)
    }
  }
  for (const f of ['replicationFactor', 'maxProvidersPerKey', 'maxConcurrentReplications'] as const) {
    if (!Number.isInteger(c[f]) || c[f] < 1) {
      throw new InvalidArgumentError(f, `must be an integer >= 1, got ${String(c[f])}`)
    }
  }
  if (!(c.repairRankDelay >= 0)) throw new InvalidArgumentError('repairRankDelay', 'must be >= 0')
  if (!(c.jitter >= 0 && c.jitter <= 1)) throw new InvalidArgumentError('jitter', 'must be within 0..1')
}

class DefaultReplicationManager extends EventTarget implements ReplicationManager {
  readonly config: Readonly<ReplicationConfig>
  readonly protocol: string
  private readonly dht: Dht
  private readonly messaging: PeerMessaging
  private readonly validate: RecordValidator
  private readonly select: RecordSelector | undefined
  private readonly log: Logger
  private readonly dataDir: string | undefined
  private readonly onPinned: ReplicationInit['onPinned']

  private started = false
  private store: ReplicationStore | undefined
  /** Repairs (check and push). */
  private queue: PQueue | undefined
  /** Provides and republishes: DHT queries that can take up to the query timeout each. */
  private announceQueue: PQueue | undefined
  private controller: AbortController | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly entries = new Map<string, Entry>()
  private readonly inflight = new Set<string>()
  /** Last liveness result per peer. */
  private readonly liveness: PeerLiveness
  private lastConnected: Set<string> | undefined
  private nextCleanupAt = 0
  private readonly counters = {
    reprovideOperations: 0,
    successfulReplications: 0,
    failedReplications: 0,
    replicasReceived: 0,
    replicasRefused: 0,
    republishOperations: 0,
    repairChecks: 0,
    repairMessages: 0,
    repairBytes: 0,
    providerLookups: 0
  }
  private lastReprovideTime: Date | undefined
  private lastCleanupTime: Date | undefined
  private lastRepairTime: Date | undefined

  constructor(components: ReplicationComponents, init: ReplicationInit) {
    super()
    if (
      components?.dht == null ||
      components.messaging == null ||
      typeof components.validate !== 'function'
    ) {
      throw new InvalidArgumentError('components', 'dht, messaging and validate are required')
    }
    const { dataDir, protocolPrefix, onPinned, ...overrides } = init ?? {}
    const config = { ...defaultReplicationConfig() }
    for (const [k, v] of Object.entries(overrides)) {
      if (v !== undefined) (config as unknown as Record<string, unknown>)[k] = v
    }
    checkConfig(config)
    this.config = Object.freeze(config)
    this.protocol = `${protocolPrefix ?? '/CHORUS'}${REPLICATE_PROTOCOL_SUFFIX}`
    this.dht = components.dht
    this.messaging = components.messaging
    this.validate = components.validate
    this.select = components.select
    this.log = components.logger ?? silentLogger
    this.dataDir = dataDir
    this.onPinned = onPinned
    this.liveness = new PeerLiveness({
      messaging: this.messaging,
      protocol: this.protocol,
      livenessTTL: config.livenessTTL,
      requestTimeout: config.requestTimeout,
      log: this.log,
      store: () => (this.started ? this.store : undefined),
      signal: () => this.controller?.signal
    })
  }

  // ---------------------------------------------------------------- lifecycle

  isStarted(): boolean {
    return this.started
  }

  async start(): Promise<void> {
    if (this.started) return
    const store = new ReplicationStore(this.dataDir)
    this.store = store
    this.controller = new AbortController()
    this.queue = new PQueue({ concurrency: this.config.maxConcurrentReplications })
    // one announcement at a time: each is a DHT query that reaches about k peers (far more work
    // for the whole network than a push); they trail the repairs instead of competing with them
    this.announceQueue = new PQueue({ concurrency: 1 })
    const now = Date.now()
    const c = this.config
    for (const row of store.allContent()) {
      this.entries.set(row.key, {
        ...row,
        // after a restart every key is announced again soon and checked, spread out by jitter
        nextProvideAt: now + withJitter(Math.min(c.reprovideInterval, 2000), 1),
        nextRepublishAt:
          row.lastRepublished == null
            ? now + withJitter(Math.min(c.republishInterval, 5000), 1)
            : row.lastRepublished + withJitter(c.republishInterval, c.jitter),
        nextRepairAt: now + withJitter(Math.min(c.repairInterval, 5000), 1),
        deferredUntil: undefined,
        provideFailures: 0,
        republishFailures: 0,
        fresh: false
      })
    }
    this.nextCleanupAt = now + withJitter(c.cleanupInterval, c.jitter)
    await this.messaging.handle(this.protocol, (req, from) => this.handleReplicate(req, from.id), {
      maxRequestBytes: c.maxRecordBytes + REQUEST_OVERHEAD_BYTES
    })
    this.started = true
    // serve every pinned value again from this node's DHT record store
    let reserved = 0
    for (const e of this.entries.values()) {
      if (!e.pinned) continue
      const value = store.getValue(e.key)
      if (value == null) continue
      try {
        await this.dht.putValue(e.key, value, { localOnly: true })
        reserved++
      } catch (err) {
        this.log.warn(
          { key: e.key, err: errorMessage(err) },
          'replication: could not re-serve a pinned value'
        )
      }
    }
    this.log.info({ keys: this.entries.size, reserved, protocol: this.protocol }, 'replication: started')
    this.schedule()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
    this.controller?.abort(new Error('replication manager stopped'))
    const queue = this.queue
    const announceQueue = this.announceQueue
    queue?.clear()
    announceQueue?.clear()
    try {
      await this.messaging.unhandle(this.protocol)
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'replication: unhandle failed (node already closed?)')
    }
    // running jobs see the aborted signal; wait for them so nothing touches the store after close
    await Promise.all([queue?.onIdle(), announceQueue?.onIdle()])
    this.store?.close()
    this.store = undefined
    this.queue = undefined
    this.announceQueue = undefined
    this.entries.clear()
    this.inflight.clear()
    this.liveness.clear()
    this.lastConnected = undefined
    this.log.info({}, 'replication: stopped')
  }

  private requireStarted(): { store: ReplicationStore; signal: AbortSignal } {
    if (!this.started || this.store == null || this.controller == null) throw new ReplicationNotStartedError()
    return { store: this.store, signal: this.controller.signal }
  }

  // ---------------------------------------------------------------- public API

  async addContent(
    key: string,
    size: number,
    priority: number,
    options: AddContentOptions = {}
  ): Promise<void> {
    const { store } = this.requireStarted()
    checkKey(key)
    if (!Number.isFinite(size) || size < 0) throw new InvalidArgumentError('size', 'must be a number >= 0')
    if (!Number.isInteger(priority)) throw new InvalidArgumentError('priority', 'must be an integer')
    let value = options.value
    let fromStore = false
    if (value == null) {
      value = await this.readValue(key, options.signal)
      fromStore = value != null
    }
    if (value != null) {
      try {
        await this.validate(textEncoder.encode(key), value)
      } catch (err) {
        throw new InvalidArgumentError('value', `the record validator refused it: ${errorMessage(err)}`, {
          cause: err
        })
      }
      if (value.byteLength > this.config.maxRecordBytes) {
        throw new InvalidArgumentError(
          'value',
          `${value.byteLength} bytes is more than maxRecordBytes (${this.config.maxRecordBytes})`
        )
      }
      if (!fromStore) await this.dht.putValue(key, value, { localOnly: true, signal: options.signal })
    } else {
      this.log.warn({ key }, 'replication: no value found for added content; it is tracked but not pinned')
    }
    const now = Date.now()
    const existing = this.entries.get(key)
    const previous = existing?.pinned === true ? store.getValue(key) : undefined
    const entry: Entry = {
      fresh: value != null && (previous == null || !sameBytes(previous, value)),
      key,
      size,
      priority,
      createdAt: existing?.createdAt ?? now,
      pinned: value != null || (existing?.pinned ?? false),
      origin: 'local',
      lastReprovided: existing?.lastReprovided,
      lastRepublished: existing?.lastRepublished,
      lastChecked: existing?.lastChecked,
      lastActual: existing?.lastActual,
      lastHealth: existing?.lastHealth,
      repairFailures: 0,
      nextRepairAt: now,
      nextProvideAt: now,
      nextRepublishAt: now + withJitter(this.config.republishInterval, this.config.jitter),
      deferredUntil: undefined,
      provideFailures: 0,
      republishFailures: 0
    }
    this.entries.set(key, entry)
    store.upsertContent(entry, value)
    if (value != null) this.emit('pinned', { key, value, from: SELF })
    if (this.config.enableAutoReplication && entry.pinned) {
      // announce and repair at once, in the background: a DHT query can take up to its timeout
      this.enqueue('provide', entry)
      this.enqueue('repair', entry)
    }
  }

  async removeContent(key: string, _options: AbortOptions = {}): Promise<void> {
    const { store } = this.requireStarted()
    checkKey(key)
    if (!this.entries.has(key)) throw new UnknownContentError(key)
    this.entries.delete(key)
    store.deleteContent(key)
    this.emit('unpinned', { key })
  }

  async provideContent(key: string, options: AbortOptions = {}): Promise<void> {
    this.requireStarted()
    checkKey(key)
    const entry = this.entries.get(key)
    if (entry == null) throw new UnknownContentError(key)
    await this.provide(entry, options.signal)
  }

  async findProviders(key: string, limit?: number, options: AbortOptions = {}): Promise<ProviderInfo[]> {
    const { signal } = this.requireStarted()
    checkKey(key)
    const max = limit ?? this.config.maxProvidersPerKey
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('limit', 'must be an integer >= 1')
    const providers = await this.lookupProviders(
      key,
      AbortSignal.any([signal, ...(options.signal ? [options.signal] : [])])
    )
    return providers.slice(0, max)
  }

  async getReplicationStatus(key: string, options: StatusOptions = {}): Promise<ReplicationStatus> {
    const { signal } = this.requireStarted()
    checkKey(key)
    const s = options.signal == null ? signal : AbortSignal.any([signal, options.signal])
    let providers = options.refresh === true ? [] : await this.lookupProviders(key, s, false)
    if (providers.filter((p) => p.live).length < this.config.replicationFactor) {
      providers = await this.lookupProviders(key, s, true)
    }
    return this.statusFrom(key, providers)
  }

  getMetrics(): ReplicationMetrics {
    let sum = 0
    let checked = 0
    let healthy = 0
    let degraded = 0
    let critical = 0
    for (const e of this.entries.values()) {
      if (e.lastActual == null) continue
      checked++
      sum += e.lastActual
      if (e.lastHealth === 'healthy') healthy++
      else if (e.lastHealth === 'degraded') degraded++
      else if (e.lastHealth === 'critical') critical++
    }
    return {
      totalKeys: this.entries.size,
      totalProviders: this.store?.countProviders() ?? 0,
      ...this.counters,
      lastReprovideTime: this.lastReprovideTime,
      lastCleanupTime: this.lastCleanupTime,
      lastRepairTime: this.lastRepairTime,
      averageReplication: checked === 0 ? 0 : sum / checked,
      healthyKeys: healthy,
      degradedKeys: degraded,
      criticalKeys: critical
    }
  }

  async repair(key: string, options: AbortOptions = {}): Promise<RepairResult> {
    const { signal } = this.requireStarted()
    checkKey(key)
    const entry = this.entries.get(key)
    if (entry == null) throw new UnknownContentError(key)
    const s = options.signal == null ? signal : AbortSignal.any([signal, options.signal])
    return this.checkAndRepair(entry, s, true)
  }

  async replicateTo(peer: string, key: string, options: AbortOptions = {}): Promise<void> {
    const { store, signal } = this.requireStarted()
    checkKey(key)
    const entry = this.entries.get(key)
    if (entry == null) throw new UnknownContentError(key)
    const value = store.getValue(key)
    if (value == null) throw new ValueUnavailableError(key)
    await this.push(
      peer,
      entry,
      value,
      options.signal == null ? signal : AbortSignal.any([signal, options.signal])
    )
  }

  listContent(): string[] {
    return [...this.entries.keys()]
  }

  getPinnedValue(key: string): Uint8Array | undefined {
    return this.store?.getValue(key)
  }

  override addEventListener(
    type: string,
    listener: unknown,
    options?: { once?: boolean; signal?: AbortSignal }
  ): void {
    super.addEventListener(type, listener as Listener, options)
  }

  override removeEventListener(type: string, listener: unknown): void {
    super.removeEventListener(type, listener as Listener)
  }

  private emit<K extends keyof ReplicationEvents>(type: K, detail: ReplicationEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }

  // ---------------------------------------------------------------- receiving replicas

  private async handleReplicate(bytes: Uint8Array, from: string): Promise<Uint8Array> {
    const res = await this.acceptReplica(bytes, from)
    if (!res.ok) {
      this.counters.replicasRefused++
      this.log.info({ from, code: res.code, reason: res.reason }, 'replication: refused a replica')
    }
    return encodeResponse(res)
  }

  private async acceptReplica(bytes: Uint8Array, from: string): Promise<ReplicateResponse> {
    const refuse = (code: RefusalCode, reason: string): ReplicateResponse => ({ ok: false, code, reason })
    if (!this.started || this.store == null)
      return refuse('NOT_ACCEPTING', 'the replication manager is stopping')
    const store = this.store
    let req: ReturnType<typeof decodeRequest>
    try {
      req = decodeRequest(bytes)
    } catch (err) {
      return refuse('MALFORMED_REQUEST', errorMessage(err))
    }
    if ('op' in req) return { ok: true }
    const { key, value } = req
    if (value.byteLength > this.config.maxRecordBytes) {
      return refuse(
        'TOO_LARGE',
        `value is ${value.byteLength} bytes; this node accepts at most ${this.config.maxRecordBytes}`
      )
    }
    const keyBytes = textEncoder.encode(key)
    try {
      await this.validate(keyBytes, value)
    } catch (err) {
      return refuse('INVALID_RECORD', `the record validator refused it: ${errorMessage(err)}`)
    }
    const existing = this.entries.get(key)
    const pinned = existing?.pinned === true ? store.getValue(key) : undefined
    let keep = value
    if (pinned != null && !sameBytes(pinned, value) && this.select != null) {
      try {
        keep = this.select(keyBytes, [pinned, value]) === 0 ? pinned : value
      } catch {
        keep = pinned
      }
    }
    if (pinned == null || !sameBytes(pinned, keep)) {
      try {
        await this.dht.putValue(key, keep, { localOnly: true })
      } catch (err) {
        // the record store already holds a version the selector prefers: pin that one instead
        const held = (err as Error)?.name === 'StaleRecordError' ? await this.heldValue(key) : undefined
        if (held == null) {
          return refuse('STORE_FAILED', `could not store it in the DHT record store: ${errorMessage(err)}`)
        }
        keep = held
      }
    }
    const changed = pinned == null || !sameBytes(pinned, keep)
    if (!this.started) return refuse('NOT_ACCEPTING', 'the replication manager is stopping')
    const now = Date.now()
    const entry: Entry = existing ?? {
      key,
      size: value.byteLength,
      priority: req.priority,
      createdAt: now,
      pinned: true,
      origin: 'replica',
      lastReprovided: undefined,
      lastRepublished: undefined,
      lastChecked: undefined,
      lastActual: undefined,
      lastHealth: undefined,
      repairFailures: 0,
      // the pusher repairs; this node checks later, in case the pusher dies
      nextRepairAt: now + withJitter(this.config.repairInterval, this.config.jitter),
      nextProvideAt: now,
      nextRepublishAt: now + withJitter(this.config.republishInterval, this.config.jitter),
      deferredUntil: undefined,
      provideFailures: 0,
      republishFailures: 0,
      fresh: false
    }
    entry.pinned = true
    // a new or changed value is announced at once; a repeated push of the same value is not
    if (changed) entry.nextProvideAt = now
    this.entries.set(key, entry)
    store.upsertContent(entry, changed ? keep : undefined)
    store.touchProvider(key, from, now)
    for (const h of req.holders ?? []) if (h !== this.messaging.peerId) store.touchProvider(key, h, now)
    this.liveness.note(from, true)
    if (changed) {
      this.counters.replicasReceived++
      this.emit('pinned', { key, value: keep, from })
      if (this.onPinned != null) {
        Promise.resolve()
          .then(() => this.onPinned?.({ key, value: keep, from }))
          .catch((err: unknown) =>
            this.log.warn({ key, err: errorMessage(err) }, 'replication: onPinned failed')
          )
      }
    }
    this.schedule(0)
    return { ok: true }
  }

  // ---------------------------------------------------------------- scheduling

  /** Arms the scheduler to run after `delay` ms (default: the regular tick). */
  private schedule(delay?: number): void {
    if (!this.started) return
    const tick = this.tickInterval()
    const ms = Math.max(0, Math.min(delay ?? tick, tick))
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      try {
        this.runDue()
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'replication: scheduler failed')
      }
      this.schedule()
    }, ms)
    this.timer.unref?.()
  }

  private tickInterval(): number {
    const c = this.config
    const shortest = Math.min(
      c.repairInterval,
      c.repairBackoffMin,
      c.reprovideInterval,
      c.republishInterval,
      c.cleanupInterval,
      c.repairRankDelay || Number.POSITIVE_INFINITY
    )
    // at most 1 s: the tick also notices co-holders that disconnected
    return Math.min(1000, Math.max(100, Math.floor(shortest / 4)))
  }

  /** Enqueues every job that is due, by priority; runs cleanup inline (it only touches the database). */
  private runDue(): void {
    const now = Date.now()
    const c = this.config
    this.noticeDepartures(now)
    for (const e of this.entries.values()) {
      if (!e.pinned) {
        if (e.nextRepairAt <= now) this.enqueue('repair', e)
        continue
      }
      if (c.enableAutoReplication && e.nextRepairAt <= now) this.enqueue('repair', e)
      if (c.enableReprovide && e.nextProvideAt <= now) this.enqueue('provide', e)
      if (c.enableReprovide && e.nextRepublishAt <= now) this.enqueue('republish', e)
    }
    if (this.nextCleanupAt <= now) {
      this.cleanup()
      this.nextCleanupAt = now + withJitter(c.cleanupInterval, c.jitter)
    }
  }

  /**
   * When a peer this node was connected to goes away, the keys it was known to hold are checked
   * within half a second instead of at their next periodic check: a holder leaving is the event
   * that makes a record under-replicated. A transient disconnect costs one local check and a ping.
   */
  private noticeDepartures(now: number): void {
    const current = new Set(this.messaging.getConnectedPeers())
    const previous = this.lastConnected
    this.lastConnected = current
    const store = this.store
    if (previous == null || store == null || !this.config.enableAutoReplication) return
    for (const peer of previous) {
      if (current.has(peer)) continue
      this.liveness.forget(peer)
      let affected = 0
      for (const key of store.keysProvidedBy(peer)) {
        const e = this.entries.get(key)
        if (e?.pinned !== true) continue
        const at = now + withJitter(250, 1)
        if (e.nextRepairAt > at) e.nextRepairAt = at
        e.departed = (e.departed ?? 0) + 1
        affected++
      }
      if (affected > 0) this.log.debug({ peer, keys: affected }, 'replication: a co-holder disconnected')
    }
  }

  private enqueue(kind: JobKind, entry: Entry): void {
    const id = `${kind}:${entry.key}`
    const queue = kind === 'repair' ? this.queue : this.announceQueue
    if (this.inflight.has(id) || queue == null || this.controller == null) return
    this.inflight.add(id)
    const signal = this.controller.signal
    // repairs have their own queue: a provide is a DHT query that reaches about k peers and can
    // take up to the query timeout, and must not hold back the copies that keep a record alive.
    // Within a queue: repairs of records that lost more known holders first (they are the ones
    // about to be lost), then by content priority (clamped to -99..99); provides before republishes.
    const p = Math.max(-99, Math.min(99, entry.priority))
    const urgency = kind === 'repair' ? 200 * Math.min(3, entry.departed ?? 0) : 0
    const priority = JOB_RANK[kind] * 1000 + urgency + p
    queue
      .add(
        async () => {
          if (!this.started || this.entries.get(entry.key) !== entry) return
          if (kind !== 'repair') await this.repairsWaiting(signal)
          if (!this.started || this.entries.get(entry.key) !== entry) return
          const s = timeoutSignal(this.config.requestTimeout * 10, signal)
          if (kind === 'repair') await this.checkAndRepair(entry, s, false)
          else if (kind === 'provide') await this.reprovide(entry, s)
          else await this.republish(entry, s)
        },
        { priority }
      )
      .catch((err: unknown) => {
        if (this.started)
          this.log.debug({ kind, key: entry.key, err: errorMessage(err) }, 'replication: job failed')
      })
      .finally(() => this.inflight.delete(id))
  }

  /** Resolves when no repair waits in its queue (running ones may go on), or on shutdown. */
  private async repairsWaiting(signal: AbortSignal): Promise<void> {
    const queue = this.queue
    if (queue == null || queue.size === 0) return
    await Promise.race([
      queue.onEmpty(),
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    ])
  }

  private persist(entry: Entry): void {
    if (this.started && this.entries.get(entry.key) === entry) this.store?.upsertContent(entry)
  }

  // ---------------------------------------------------------------- jobs

  private async provide(entry: Entry, signal?: AbortSignal): Promise<void> {
    // the DHT bounds the query itself (its query timeout) and keeps what it reached
    await this.dht.provide(entry.key, { signal })
    const now = Date.now()
    entry.lastReprovided = now
    entry.nextProvideAt = now + withJitter(this.config.reprovideInterval, this.config.jitter)
    entry.provideFailures = 0
    this.counters.reprovideOperations++
    this.lastReprovideTime = new Date(now)
    this.store?.touchProvider(entry.key, this.messaging.peerId, now)
    this.persist(entry)
  }

  private async reprovide(entry: Entry, signal: AbortSignal): Promise<void> {
    try {
      await this.provide(entry, signal)
    } catch (err) {
      entry.provideFailures++
      const c = this.config
      entry.nextProvideAt =
        Date.now() + backoffDelay(entry.provideFailures, c.repairBackoffMin, c.reprovideInterval, c.jitter)
      throw err
    }
  }

  private async republish(entry: Entry, signal: AbortSignal): Promise<void> {
    const value = this.store?.getValue(entry.key)
    const c = this.config
    if (value == null) {
      entry.nextRepublishAt = Date.now() + withJitter(c.republishInterval, c.jitter)
      return
    }
    try {
      await this.dht.putValue(entry.key, value, { signal: timeoutSignal(c.requestTimeout * 2, signal) })
      const now = Date.now()
      entry.lastRepublished = now
      entry.nextRepublishAt = now + withJitter(c.republishInterval, c.jitter)
      entry.republishFailures = 0
      this.counters.republishOperations++
      this.persist(entry)
    } catch (err) {
      entry.republishFailures++
      entry.nextRepublishAt =
        Date.now() + backoffDelay(entry.republishFailures, c.repairBackoffMin, c.republishInterval, c.jitter)
      throw err
    }
  }

  /** Drops provider entries older than `providerTTL` and keeps at most `maxProvidersPerKey` per key. */
  private cleanup(): void {
    const store = this.store
    if (store == null) return
    const now = Date.now()
    const expired = store.expireProviders(now - this.config.providerTTL)
    const capped = store.capProviders(this.config.maxProvidersPerKey)
    this.liveness.prune(this.config.providerTTL)
    this.lastCleanupTime = new Date(now)
    this.log.debug({ expired, capped }, 'replication: provider cleanup')
  }

  /**
   * Counts the key's live holders and, when this node holds it and there are too few, pushes it to
   * the closest reachable non-holders. A holder that is not the closest live one to the key first
   * waits `rank * repairRankDelay` (jittered) and checks again, so normally one holder repairs.
   */
  private async checkAndRepair(entry: Entry, signal: AbortSignal, now_: boolean): Promise<RepairResult> {
    const c = this.config
    const target = c.replicationFactor
    this.counters.repairChecks++
    entry.departed = 0
    this.lastRepairTime = new Date()
    if (!entry.pinned) {
      // tracked without a value: try to fetch and pin it, then count
      const value = await this.readValue(entry.key, signal)
      if (value != null) {
        try {
          await this.validate(textEncoder.encode(entry.key), value)
          entry.pinned = true
          this.store?.upsertContent(entry, value)
        } catch (err) {
          this.log.warn({ key: entry.key, err: errorMessage(err) }, 'replication: fetched value is invalid')
        }
      }
    }
    if (entry.fresh && entry.pinned && (c.enableAutoReplication || now_)) {
      entry.fresh = false
      return this.spreadFresh(entry, signal)
    }
    // what this node knows (its pushes, the co-holders sent with the replicas it received, earlier
    // lookups) decides. A holder does not ask the DHT for providers when it counts too few: it
    // pushes to the closest connected non-holders it knows, and a peer that already holds the
    // value answers ok (and is counted) at the cost of one small request, far cheaper than a
    // provider query that reaches about k peers and, on a busy network, feeds a storm of them.
    // A node that tracks a key without its value asks the DHT.
    const t0 = Date.now()
    let providers = await this.lookupProviders(entry.key, signal, false)
    const knownLive = providers.filter((p) => p.live).length
    if (!entry.pinned && knownLive < target) {
      // enough to find the live holders besides the dead ones already known: the query then
      // ends as soon as they are found instead of walking the whole network
      const knownDead = providers.length - knownLive
      providers = await this.lookupProviders(
        entry.key,
        signal,
        true,
        Math.min(c.maxProvidersPerKey, target + knownDead)
      )
    }
    const t1 = Date.now()
    const status = this.statusFrom(entry.key, providers)
    const before = status.actualReplicas
    const result: RepairResult = { key: entry.key, before, after: before, target, pushedTo: [] }
    const later = (failures: number): number =>
      Date.now() +
      (failures === 0
        ? withJitter(c.repairInterval, c.jitter)
        : backoffDelay(failures, c.repairBackoffMin, c.repairBackoffMax, c.jitter))
    if (!entry.pinned) {
      entry.nextRepairAt = later(++entry.repairFailures)
      this.persist(entry)
      return { ...result, skipped: 'not-holder' }
    }
    if (before >= target) {
      entry.repairFailures = 0
      entry.deferredUntil = undefined
      entry.nextRepairAt = later(0)
      this.persist(entry)
      return { ...result, skipped: 'healthy' }
    }
    if (!c.enableAutoReplication && !now_) return { ...result, skipped: 'disabled' }
    const holders = providers.filter((p) => p.live).map((p) => p.peerId)
    const rank = sortByDistance(entry.key, holders).indexOf(this.messaging.peerId)
    const t = Date.now()
    if (!now_ && rank > 0 && (entry.deferredUntil == null || entry.deferredUntil > t)) {
      if (entry.deferredUntil == null) {
        entry.deferredUntil = t + withJitter(rank * c.repairRankDelay, c.jitter)
      }
      entry.nextRepairAt = entry.deferredUntil
      return { ...result, skipped: 'deferred' }
    }
    entry.deferredUntil = undefined
    const value = this.store?.getValue(entry.key)
    if (value == null) throw new ValueUnavailableError(entry.key)
    const t2 = Date.now()
    const pushedTo = await this.pushToClosest(entry, value, new Set(holders), target - before, signal)
    this.log.debug(
      { key: entry.key, lookupMs: t1 - t0, decideMs: t2 - t1, pushMs: Date.now() - t2 },
      'replication: repair timings'
    )
    result.pushedTo = pushedTo
    result.after = before + pushedTo.length
    entry.repairFailures = result.after >= target ? 0 : entry.repairFailures + 1
    entry.nextRepairAt = later(entry.repairFailures)
    entry.lastActual = result.after
    entry.lastHealth = this.healthOf(result.after)
    this.persist(entry)
    if (pushedTo.length > 0) {
      this.log.info({ key: entry.key, before, after: result.after, pushedTo }, 'replication: repaired')
    }
    return result
  }

  /**
   * First spread of a value `addContent` just pinned (new, or a new version): the known live
   * holders get it (a holder keeps the better one by the selector), and the closest other peers
   * fill up to the target. No provider lookup: this node just wrote the value.
   */
  private async spreadFresh(entry: Entry, signal: AbortSignal): Promise<RepairResult> {
    const c = this.config
    const target = c.replicationFactor
    const self = this.messaging.peerId
    const value = this.store?.getValue(entry.key)
    if (value == null) throw new ValueUnavailableError(entry.key)
    const known = await this.lookupProviders(entry.key, signal, false)
    const liveKnown = known.filter((p) => p.live && p.peerId !== self).map((p) => p.peerId)
    const holders = [self, ...liveKnown]
    const settled = await Promise.allSettled(
      liveKnown.map((peer) =>
        this.push(
          peer,
          entry,
          value,
          signal,
          holders.filter((h) => h !== peer)
        )
      )
    )
    const updated = liveKnown.filter((_, i) => settled[i]?.status === 'fulfilled')
    const before = 1 + updated.length
    const more =
      before < target ? await this.pushToClosest(entry, value, new Set(holders), target - before, signal) : []
    const after = before + more.length
    entry.repairFailures = after >= target ? 0 : 1
    entry.nextRepairAt =
      Date.now() +
      (after >= target
        ? withJitter(c.repairInterval, c.jitter)
        : backoffDelay(1, c.repairBackoffMin, c.repairBackoffMax, c.jitter))
    const health = this.healthOf(after)
    if (entry.lastHealth !== health) {
      this.emit('health', { key: entry.key, health, actualReplicas: after, targetReplicas: target })
    }
    entry.lastChecked = Date.now()
    entry.lastActual = after
    entry.lastHealth = health
    this.persist(entry)
    this.log.info({ key: entry.key, updated, pushedTo: more, after }, 'replication: spread a new value')
    return { key: entry.key, before, after, target, pushedTo: [...updated, ...more] }
  }

  /** The peers closest to the key as the DHT finds them; empty when the lookup fails. */
  private async closestPeers(key: string, signal: AbortSignal): Promise<string[]> {
    try {
      // no extra timeout here: on its own query timeout the DHT answers with what it found
      const peers = await this.dht.getClosestPeers(key, { limit: 20, signal })
      return peers.map((p) => p.id)
    } catch (err) {
      this.log.debug({ key, err: errorMessage(err) }, 'replication: closest-peer lookup failed')
      return []
    }
  }

  /**
   * Pushes the value to up to `need` reachable non-holders, closest to the key first. Candidates
   * are the peers this node is connected to, ordered by XOR distance to the key: no network query
   * per record (in a network where every node is connected to every other, as kad-dht keeps small
   * networks, they are exactly the key's closest peers). Only when they are too few is the DHT
   * asked for the key's closest peers, once.
   */
  private async pushToClosest(
    entry: Entry,
    value: Uint8Array,
    holders: Set<string>,
    need: number,
    signal: AbortSignal
  ): Promise<string[]> {
    const self = this.messaging.peerId
    const tried = new Set<string>([self, ...holders])
    // XOR order, but peers known to be down right now last (a stable sort keeps the XOR order)
    const order = (peers: Iterable<string>): string[] => {
      const down = (p: string): number => (this.liveness.knownDown(p) ? 1 : 0)
      return sortByDistance(
        entry.key,
        [...new Set(peers)].filter((p) => !tried.has(p))
      ).sort((a, b) => down(a) - down(b))
    }
    let candidates = order(this.liveness.connected())
    let queried = false
    // push to as many peers as are missing at once; replace the ones that fail with the next
    const pushed: string[] = []
    while (pushed.length < need && !signal.aborted) {
      if (candidates.length < need - pushed.length && !queried) {
        queried = true
        candidates = order([...candidates, ...(await this.closestPeers(entry.key, signal))])
      }
      if (candidates.length === 0) break
      const batch = candidates.splice(0, need - pushed.length)
      for (const p of batch) tried.add(p)
      // each receiver learns the holders known to hold it now (not the rest of its batch, which may fail)
      const known = [...new Set([self, ...holders, ...pushed])]
      const results = await Promise.allSettled(
        batch.map((peer) =>
          this.push(
            peer,
            entry,
            value,
            signal,
            known.filter((h) => h !== peer)
          )
        )
      )
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') pushed.push(batch[i]!)
        else
          this.log.debug(
            { key: entry.key, peer: batch[i], err: errorMessage(r.reason) },
            'replication: push failed'
          )
      })
    }
    return pushed
  }

  /** One replicate request; resolves when the peer pinned the value. */
  private async push(
    peer: string,
    entry: Entry,
    value: Uint8Array,
    signal: AbortSignal,
    holders: string[] = []
  ): Promise<void> {
    const body = encodeRequest({ key: entry.key, value, priority: entry.priority, holders })
    this.counters.repairMessages++
    this.counters.repairBytes += body.byteLength
    let raw: Uint8Array
    try {
      raw = await this.messaging.request(peer, this.protocol, body, {
        signal: timeoutSignal(this.config.requestTimeout, signal),
        maxResponseBytes: 64 * 1024
      })
    } catch (err) {
      this.counters.failedReplications++
      this.liveness.note(peer, false)
      throw err
    }
    let res: ReplicateResponse
    try {
      res = decodeResponse(raw)
    } catch (err) {
      this.counters.failedReplications++
      throw new ProtocolError(peer, errorMessage(err), { cause: err })
    }
    this.liveness.note(peer, true)
    if (!res.ok) {
      this.counters.failedReplications++
      throw new ReplicationRefusedError(peer, entry.key, res.code, res.reason)
    }
    this.counters.successfulReplications++
    this.store?.touchProvider(entry.key, peer, Date.now())
    this.emit('replicated', { key: entry.key, peer })
  }

  // ---------------------------------------------------------------- providers and liveness

  /**
   * Providers from the DHT merged with those this node saw itself (pushes it made, replicas it
   * received), each liveness-checked, closest to the key first; this node first-class when it holds.
   */
  private async lookupProviders(
    key: string,
    signal: AbortSignal,
    network = true,
    limit = this.config.maxProvidersPerKey
  ): Promise<ProviderInfo[]> {
    const self = this.messaging.peerId
    const c = this.config
    const now = Date.now()
    const store = this.store
    const ids = new Set<string>()
    if (network) this.counters.providerLookups++
    if (network)
      try {
        // no extra timeout here: on its own query timeout the DHT answers with what it found
        const found = await this.dht.findProviders(key, { limit, signal })
        for (const p of found) {
          ids.add(p.id)
          if (p.id !== self) store?.touchProvider(key, p.id, now)
        }
      } catch (err) {
        if (signal.aborted) throw err
        this.log.debug({ key, err: errorMessage(err) }, 'replication: provider lookup failed')
      }
    const known = store?.providers(key) ?? []
    for (const p of known) if (now - p.lastSeen <= c.providerTTL) ids.add(p.peer)
    const holdsHere = this.entries.get(key)?.pinned === true
    if (holdsHere) ids.add(self)
    else ids.delete(self)
    const max = Math.max(c.maxProvidersPerKey, c.replicationFactor)
    // check a few more than reported, so dead providers close to the key do not hide live ones
    const checked = sortByDistance(key, [...ids]).slice(0, 3 * max)
    const alive = await Promise.all(checked.map((p) => (p === self ? true : this.liveness.isLive(p, signal))))
    const liveSet = new Set(checked.filter((_, i) => alive[i] === true))
    const ordered = [
      ...checked.filter((p) => liveSet.has(p)),
      ...checked.filter((p) => !liveSet.has(p))
    ].slice(0, max)
    const rows = new Map((store?.providers(key) ?? []).map((r) => [r.peer, r]))
    return ordered.map((peerId) => {
      const d = keyPeerDistance(key, peerId)
      const row = rows.get(peerId)
      const peer = peerId === self ? undefined : store?.getPeer(peerId)
      return {
        peerId,
        addedAt: new Date(row?.addedAt ?? now),
        lastSeen: new Date(peerId === self ? Date.now() : (peer?.lastSeen ?? row?.lastSeen ?? now)),
        quality: peerId === self ? 1 : (peer?.quality ?? 0.5),
        distance: log2Distance(d),
        xorDistance: d.toString(16).padStart(64, '0'),
        live: liveSet.has(peerId)
      }
    })
  }

  private statusFrom(key: string, providers: ProviderInfo[]): ReplicationStatus {
    const self = this.messaging.peerId
    const entry = this.entries.get(key)
    const isLocal = entry?.pinned === true
    const healthyProviders = providers.filter((p) => p.live && p.peerId !== self).length
    const actual = healthyProviders + (isLocal ? 1 : 0)
    const health = this.healthOf(actual)
    if (entry != null) {
      if (entry.lastHealth !== health) {
        this.emit('health', {
          key,
          health,
          actualReplicas: actual,
          targetReplicas: this.config.replicationFactor
        })
      }
      entry.lastChecked = Date.now()
      entry.lastActual = actual
      entry.lastHealth = health
      this.persist(entry)
    }
    return {
      key,
      targetReplicas: this.config.replicationFactor,
      actualReplicas: actual,
      healthyProviders,
      lastReprovided: entry?.lastReprovided == null ? undefined : new Date(entry.lastReprovided),
      createdAt: entry == null ? undefined : new Date(entry.createdAt),
      size: entry?.size ?? 0,
      priority: entry?.priority ?? 0,
      health,
      isLocal,
      providers
    }
  }

  private healthOf(actual: number): ReplicationHealth {
    if (actual >= this.config.replicationFactor) return 'healthy'
    return actual === 0 ? 'critical' : 'degraded'
  }

  /** The valid value this node's DHT record store holds for the key, if any. */
  private async heldValue(key: string): Promise<Uint8Array | undefined> {
    try {
      const v = await this.dht.getValue(key, { localOnly: true })
      await this.validate(textEncoder.encode(key), v)
      return v
    } catch {
      return undefined
    }
  }

  /** This node's value for the key: its DHT record store, else the network. */
  private async readValue(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    try {
      return await this.dht.getValue(key, { localOnly: true, signal })
    } catch {
      // not in the local store
    }
    try {
      return await this.dht.getValue(key, { signal: timeoutSignal(this.config.requestTimeout, signal) })
    } catch {
      return undefined
    }
  }
}

/** Creates a replication manager; call `start()` before using it. */
export function createReplicationManager(
  components: ReplicationComponents,
  init: ReplicationInit = {}
): ReplicationManager {
  return new DefaultReplicationManager(components, init)
}
