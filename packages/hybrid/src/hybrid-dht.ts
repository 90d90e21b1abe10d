import { setMaxListeners } from 'node:events'
import {
  type ClosestPeersOptions,
  type Dht,
  type FindProvidersOptions,
  type GetOptions,
  type Logger,
  NotFoundError,
  NotStartedError,
  type PeerInfo,
  type ProvideOptions,
  type PutOptions,
  type PutResult,
  type ReceivedValue
} from '@chorus/dht'
import { describe, isAnswer, isInvalid, isNotFound } from './classify.js'
import { BackendsUnavailableError, HybridConfigError } from './errors.js'
import { HealthTracker } from './health.js'
import { Journal, type JournalEntry } from './journal.js'
import { BackendStats } from './metrics.js'
import { closestPeersProbe, type HealthProbe } from './probe.js'
import { abortError, throwIfAborted, withTimeout } from './timeout.js'
import type {
  BackendHealth,
  BackendMode,
  BackendName,
  HybridMetrics,
  JournalMetrics,
  OperationName
} from './types.js'

export interface HybridDHTComponents {
  /** The network backend ("real"), normally a `LibP2PDHT`. The hybrid never starts or stops it. */
  primary: Dht
  /**
   * The local backend ("mock"), normally `createLocalDHT({ dataDir, records, peerId })` with the
   * same record rules and the primary's peer id. Every put lands here too. Never started or stopped
   * by the hybrid.
   */
  fallback: Dht
  /** Where to log. Default: no logging. */
  logger?: Logger
}

export interface HybridDHTInit {
  /**
   * Directory of the write journal (`hybrid-journal.sqlite`); created when missing. Default: none,
   * the journal lives in memory and writes not yet on the network are lost with the process.
   */
  dataDir?: string
  /** Consecutive failures (errors or timeouts) of the primary that make it `failed` and fail over. Default: 3. */
  failureThreshold?: number
  /** Consecutive successes (probes or operations) that take a `failed` primary back to `healthy`. Default: 2. */
  recoveryThreshold?: number
  /** Interval of the active health probe of the primary, in ms; 0 disables probing. Default: 5000. */
  probeInterval?: number
  /** Time limit of one probe, in ms. Default: `operationTimeout`. */
  probeTimeout?: number
  /**
   * Time limit of one operation on a backend, in ms: a primary that takes longer counts as failed
   * for that operation (the hybrid falls back; a put is journaled). Default: 10000.
   */
  operationTimeout?: number
  /** The health probe. Default: `closestPeersProbe` (a closest-peers lookup must return a peer). */
  probe?: HealthProbe
  /** Journal entries replayed to the primary at once (distinct keys, started in journal order). Default: 8. */
  replayConcurrency?: number
  /** Backend mode at start. Default: `'auto'`. */
  mode?: BackendMode
  /** Operations per backend kept for latency percentiles. Default: 1024. */
  latencyWindow?: number
  /** SQLite `synchronous` of the journal: `'normal'` survives a process crash, `'full'` also power loss. Default: `'normal'`. */
  synchronous?: 'normal' | 'full'
}

/** What one `replayJournal()` call did. */
export interface ReplayResult {
  /** Entries the primary acknowledged (and left the journal). */
  replayed: number
  /** Entries the primary refused as invalid (dropped, logged). */
  dropped: number
  /** Entries still waiting. */
  pending: number
  /** Why the replay stopped early, if it did. */
  error?: string
}

/**
 * A `Dht` over a network primary ("real") and a persistent local fallback ("mock"), with health
 * tracking, automatic fail-over and fail-back, manual switching and a write journal.
 * `createHybridDHT` returns it started.
 */
export interface HybridDHT extends Dht {
  /** Opens the journal and starts probing again after `stop()`. Idempotent. */
  start(): Promise<void>
  /**
   * Stops probing and replay, lets operations in flight finish (a put interrupted here is
   * journaled, not lost) and closes the journal. Does not stop the backends. Idempotent.
   */
  stop(): Promise<void>
  /** Same as `stop()`. */
  close(): Promise<void>
  isStarted(): boolean
  /** The reference's per-backend health. */
  getBackendHealth(): Record<BackendName, BackendHealth>
  /**
   * `'mock'` or `'real'` pin that backend until switched again (no automatic fail-over or
   * fail-back); `'auto'` lets health decide. Switching to `'real'` or `'auto'` starts a journal
   * replay when the primary is usable. Throws `HybridConfigError` for anything else.
   */
  switchBackend(mode: BackendMode): void
  getMode(): BackendMode
  /** The backend operations go to now. */
  getActiveBackend(): BackendName
  getMetrics(): HybridMetrics
  /** Runs the health probe now; resolves whether the primary passed it. */
  probe(options?: { signal?: AbortSignal }): Promise<boolean>
  /** Replays the journal now (joining a replay in progress) while the primary stays usable. */
  replayJournal(): Promise<ReplayResult>
  /** Journal entries waiting for the network. */
  pendingWrites(): number
}

const DEFAULTS = {
  failureThreshold: 3,
  recoveryThreshold: 2,
  probeInterval: 5_000,
  operationTimeout: 10_000,
  replayConcurrency: 8,
  latencyWindow: 1024
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }
const EMPTY = new Uint8Array(0)
const MODES: readonly BackendMode[] = ['auto', 'mock', 'real']

class HybridDHTImpl implements HybridDHT {
  readonly #primary: Dht
  readonly #fallback: Dht
  readonly #log: Logger
  readonly #init: HybridDHTInit
  readonly #opts: typeof DEFAULTS & { probeTimeout: number }
  readonly #probeFn: HealthProbe
  readonly #health: Record<BackendName, HealthTracker>
  readonly #stats: Record<BackendName, BackendStats>
  #mode: BackendMode
  #journal: Journal | undefined
  #lifetime = new AbortController()
  #probeTimer: NodeJS.Timeout | undefined
  #replaying: Promise<ReplayResult> | undefined
  #replayBackoffUntil = 0
  #stopping: Promise<void> | undefined
  /** Bumped by each start, so a probe chain of an earlier run never reschedules itself. */
  #generation = 0
  readonly #inflight = new Set<Promise<unknown>>()
  #failovers = 0
  #failbacks = 0
  #lastFailoverAt: Date | null = null
  #lastFailbackAt: Date | null = null
  #appended = 0
  #replayed = 0
  #dropped = 0
  #lastReplayAt: Date | null = null
  #lastReplayError: string | null = null

  constructor(components: HybridDHTComponents, init: HybridDHTInit) {
    if (components?.primary == null || components.fallback == null) {
      throw new HybridConfigError('createHybridDHT needs components.primary and components.fallback')
    }
    this.#primary = components.primary
    this.#fallback = components.fallback
    this.#log = components.logger ?? silent
    this.#init = init
    const opts = {
      failureThreshold: positiveInt('failureThreshold', init.failureThreshold, DEFAULTS.failureThreshold),
      recoveryThreshold: positiveInt('recoveryThreshold', init.recoveryThreshold, DEFAULTS.recoveryThreshold),
      probeInterval: nonNegative('probeInterval', init.probeInterval, DEFAULTS.probeInterval),
      operationTimeout: positive('operationTimeout', init.operationTimeout, DEFAULTS.operationTimeout),
      replayConcurrency: positiveInt('replayConcurrency', init.replayConcurrency, DEFAULTS.replayConcurrency),
      latencyWindow: positiveInt('latencyWindow', init.latencyWindow, DEFAULTS.latencyWindow)
    }
    this.#opts = {
      ...opts,
      probeTimeout: positive('probeTimeout', init.probeTimeout, opts.operationTimeout)
    }
    this.#mode = checkMode(init.mode ?? 'auto')
    this.#probeFn = init.probe ?? closestPeersProbe
    this.#health = {
      real: new HealthTracker('real', opts.failureThreshold, opts.recoveryThreshold),
      mock: new HealthTracker('mock', opts.failureThreshold, opts.recoveryThreshold)
    }
    this.#stats = { real: new BackendStats(opts.latencyWindow), mock: new BackendStats(opts.latencyWindow) }
    this.#open()
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    // A start during a stop waits for it, then opens again.
    await this.#stopping
    this.#open()
  }

  #open(): void {
    if (this.#journal !== undefined) return
    this.#journal = new Journal(this.#init.dataDir, this.#init.synchronous ?? 'normal')
    this.#lifetime = new AbortController()
    // Every operation in flight listens on it; many at once is normal, not a leak.
    setMaxListeners(Number.POSITIVE_INFINITY, this.#lifetime.signal)
    this.#generation++
    if (this.#init.dataDir === undefined) {
      this.#log.warn(
        'hybrid dht without dataDir: the write journal is in memory and does not survive a restart'
      )
    }
    this.#log.info(
      { mode: this.#mode, pending: this.#journal.size, dataDir: this.#init.dataDir ?? ':memory:' },
      'hybrid dht started'
    )
    this.#scheduleProbe()
    // Writes journaled before a restart go out as soon as the primary takes them.
    if (this.#journal.size > 0) setImmediate(() => this.#kickReplay(true))
  }

  async stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined
    })
    return this.#stopping
  }

  async #stop(): Promise<void> {
    const journal = this.#journal
    if (journal === undefined) return
    clearTimeout(this.#probeTimer)
    this.#probeTimer = undefined
    this.#lifetime.abort(new NotStartedError('HybridDHT'))
    // Operations in flight may still journal what they could not send: let them.
    await Promise.allSettled([...this.#inflight, this.#replaying])
    this.#journal = undefined
    journal.close()
    this.#log.info({ pending: journal.size }, 'hybrid dht stopped')
  }

  async close(): Promise<void> {
    await this.stop()
  }

  isStarted(): boolean {
    return this.#journal !== undefined && !this.#lifetime.signal.aborted
  }

  #started(what: string): Journal {
    if (this.#journal === undefined || this.#lifetime.signal.aborted) {
      throw new NotStartedError(`HybridDHT (${what})`)
    }
    return this.#journal
  }

  /** Keeps `stop()` waiting for the operation, so it can still journal on its way out. */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inflight.add(promise)
    const done = (): void => {
      this.#inflight.delete(promise)
    }
    promise.then(done, done)
    return promise
  }

  // ------------------------------------------------------------------ routing and health

  getMode(): BackendMode {
    return this.#mode
  }

  getActiveBackend(): BackendName {
    if (this.#mode !== 'auto') return this.#mode
    return this.#health.real.failed ? 'mock' : 'real'
  }

  switchBackend(mode: BackendMode): void {
    const next = checkMode(mode)
    if (next === this.#mode) return
    const before = this.getActiveBackend()
    this.#mode = next
    this.#log.info({ mode: next, from: before, to: this.getActiveBackend() }, 'backend mode switched')
    if (this.isStarted()) this.#kickReplay(true)
  }

  getBackendHealth(): Record<BackendName, BackendHealth> {
    return { real: this.#health.real.snapshot(), mock: this.#health.mock.snapshot() }
  }

  getMetrics(): HybridMetrics {
    const journal: JournalMetrics = {
      pending: this.#journal?.size ?? 0,
      appended: this.#appended,
      replayed: this.#replayed,
      dropped: this.#dropped,
      replaying: this.#replaying !== undefined,
      lastReplayAt: this.#lastReplayAt,
      lastReplayError: this.#lastReplayError
    }
    return {
      mode: this.#mode,
      activeBackend: this.getActiveBackend(),
      failovers: this.#failovers,
      failbacks: this.#failbacks,
      lastFailoverAt: this.#lastFailoverAt,
      lastFailbackAt: this.#lastFailbackAt,
      backends: { real: this.#stats.real.snapshot(), mock: this.#stats.mock.snapshot() },
      journal
    }
  }

  pendingWrites(): number {
    return this.#journal?.size ?? 0
  }

  /** Whether operations go to the primary now. */
  #primaryActive(): boolean {
    return this.getActiveBackend() === 'real'
  }

  /**
   * Runs one operation on a backend under the operation timeout, and books its outcome in that
   * backend's health and metrics. A caller's abort and the hybrid's own shutdown are booked as
   * neither; a not-found or invalid-record answer is a healthy answer.
   */
  async #call<T>(
    backend: BackendName,
    op: OperationName,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeout = this.#opts.operationTimeout
  ): Promise<T> {
    const t0 = performance.now()
    try {
      const result = await withTimeout(`${backend} ${op}`, timeout, [signal, this.#lifetime.signal], fn)
      this.#book(backend, op, performance.now() - t0, undefined)
      return result
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      if (this.#lifetime.signal.aborted) throw this.#lifetime.signal.reason
      this.#book(backend, op, performance.now() - t0, isAnswer(err) ? undefined : err)
      throw err
    }
  }

  #book(backend: BackendName, op: OperationName, ms: number, err: unknown): void {
    this.#stats[backend].record(op, ms, err === undefined)
    const health = this.#health[backend]
    if (err === undefined) {
      if (health.success(ms) === 'recovered') this.#onRecovered(backend)
      return
    }
    this.#log.debug({ backend, op, err: describe(err) }, 'backend operation failed')
    if (health.failure(ms) === 'failed') this.#onFailed(backend, err)
  }

  #onFailed(backend: BackendName, err: unknown): void {
    if (backend === 'real' && this.#mode === 'auto') {
      this.#failovers++
      this.#lastFailoverAt = new Date()
      this.#log.warn(
        { threshold: this.#opts.failureThreshold, err: describe(err) },
        'network backend failed: failing over to the local backend'
      )
    } else {
      this.#log.warn({ backend, mode: this.#mode, err: describe(err) }, 'backend marked failed')
    }
  }

  #onRecovered(backend: BackendName): void {
    if (backend === 'real' && this.#mode === 'auto') {
      this.#failbacks++
      this.#lastFailbackAt = new Date()
      this.#log.info({ pending: this.pendingWrites() }, 'network backend healthy again: failing back')
    } else {
      this.#log.info({ backend }, 'backend healthy again')
    }
    if (backend === 'real') this.#kickReplay(true)
  }

  // ------------------------------------------------------------------ probe

  #scheduleProbe(): void {
    if (this.#opts.probeInterval <= 0 || !this.isStarted()) return
    const generation = this.#generation
    this.#probeTimer = setTimeout(() => {
      void this.probe()
        .catch(() => false)
        .then(() => {
          if (generation === this.#generation) this.#scheduleProbe()
        })
    }, this.#opts.probeInterval)
    this.#probeTimer.unref()
  }

  async probe(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    this.#started('probe')
    throwIfAborted(options.signal)
    try {
      await this.#track(
        this.#call(
          'real',
          'probe',
          options.signal,
          (signal) => this.#probeFn(this.#primary, { signal }),
          this.#opts.probeTimeout
        )
      )
    } catch {
      if (options.signal?.aborted === true) throw abortError(options.signal)
      return false
    }
    this.#kickReplay(false)
    return true
  }

  // ------------------------------------------------------------------ journal replay

  /** Whether journaled writes may go to the primary now. */
  #primaryUsable(): boolean {
    return this.#mode === 'real' || (this.#mode === 'auto' && !this.#health.real.failed)
  }

  /**
   * Starts a replay unless one runs, the journal is empty or the primary is not usable. Kicks
   * from puts wait out a short back-off after a failed replay so a dead primary is not hammered;
   * probes, fail-back and switches (`force`) do not.
   */
  #kickReplay(force: boolean): void {
    const journal = this.#journal
    if (journal === undefined || journal.size === 0 || this.#replaying !== undefined) return
    if (!this.isStarted() || !this.#primaryUsable()) return
    if (!force && Date.now() < this.#replayBackoffUntil) return
    const run = this.#replay(journal)
    this.#replaying = run
    run
      .catch((err: unknown) => this.#log.error({ err: describe(err) }, 'journal replay crashed'))
      .finally(() => {
        if (this.#replaying === run) this.#replaying = undefined
      })
  }

  async replayJournal(): Promise<ReplayResult> {
    const journal = this.#started('replayJournal')
    this.#kickReplay(true)
    if (this.#replaying !== undefined) return this.#replaying
    return { replayed: 0, dropped: 0, pending: journal.size }
  }

  async #replay(journal: Journal): Promise<ReplayResult> {
    const result: ReplayResult = { replayed: 0, dropped: 0, pending: journal.size }
    this.#log.info({ pending: journal.size }, 'replaying the write journal to the network')
    let failure: unknown
    const going = (): boolean => failure === undefined && this.isStarted() && this.#primaryUsable()
    const concurrency = this.#opts.replayConcurrency
    while (journal.size > 0 && going()) {
      // The latest entry of each key, oldest first: distinct keys, so no two entries of one key
      // are ever in flight. A sliding window over them (not batch by batch, where every batch
      // would wait for its slowest put).
      const snapshot = journal.next(Math.max(64, concurrency * 8))
      if (snapshot.length === 0) break
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < snapshot.length && going()) {
          const entry = snapshot[next++]!
          try {
            await this.#replayOne(entry)
            journal.done(entry)
            result.replayed++
            this.#replayed++
          } catch (err) {
            if (isInvalid(err)) {
              // The network refuses it and always will: keep the local copy, stop retrying.
              journal.done(entry)
              result.dropped++
              this.#dropped++
              this.#log.error(
                { key: entry.key, op: entry.op, err: describe(err) },
                'journaled write refused by the network; dropped from the journal'
              )
            } else {
              journal.failed(entry)
              failure ??= err
            }
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, snapshot.length) }, worker))
    }
    if (failure !== undefined) result.error = describe(failure)
    this.#lastReplayAt = new Date()
    this.#lastReplayError = result.error ?? null
    result.pending = journal.size
    if (result.error !== undefined) {
      this.#replayBackoffUntil = Date.now() + this.#replayBackoff()
      this.#log.info({ ...result }, 'journal replay stopped; it resumes when the network takes writes again')
    } else {
      this.#log.info({ ...result }, 'journal replay finished')
    }
    return result
  }

  /** How long kicks from puts wait after the primary failed a write: 1 s, or the probe interval when shorter. */
  #replayBackoff(): number {
    return Math.min(1_000, this.#opts.probeInterval || 1_000)
  }

  async #replayOne(entry: JournalEntry): Promise<void> {
    if (entry.op === 'provide') {
      await this.#call('real', 'replay', undefined, (signal) => this.#primary.provide(entry.key, { signal }))
      return
    }
    // A put the network acknowledged (LibP2PDHT rejects one that reached no peer): safe to drop.
    // Sending the same value twice after a crash is harmless, which makes replay idempotent.
    await this.#call('real', 'replay', undefined, (signal) =>
      this.#primary.putValue(entry.key, entry.value, { signal })
    )
  }

  #journalAppend(journal: Journal, op: 'put' | 'provide', key: string, value: Uint8Array): void {
    journal.append(op, key, value)
    this.#appended++
  }

  // ------------------------------------------------------------------ the Dht contract

  putValue(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    return this.#track(this.#put(key, value, options))
  }

  async #put(key: string, value: Uint8Array, options: PutOptions): Promise<PutResult> {
    const journal = this.#started('putValue')
    throwIfAborted(options.signal)
    // 1. The local copy, always: reads during fail-over see it, and it validates the record.
    let localStored = false
    let localError: unknown
    try {
      const local = await this.#call('mock', 'putValue', options.signal, (signal) =>
        this.#fallback.putValue(key, value, { localOnly: true, signal })
      )
      localStored = local.storedLocally
    } catch (err) {
      if (isInvalid(err) || options.signal?.aborted === true || this.#lifetime.signal.aborted) throw err
      localError = err
      this.#log.warn({ key, err: describe(err) }, 'local backend could not store a put')
    }

    if (options.localOnly === true) {
      // The node's own network record store too, so it answers GET_VALUE for it.
      if (this.#primaryActive()) {
        try {
          await this.#call('real', 'putValue', options.signal, (signal) =>
            this.#primary.putValue(key, value, { localOnly: true, signal })
          )
          localStored = true
        } catch (err) {
          if (isInvalid(err) || options.signal?.aborted === true) throw err
        }
      }
      if (!localStored && localError !== undefined)
        throw new BackendsUnavailableError('putValue', { cause: localError })
      return { key, acks: [], storedLocally: localStored }
    }

    // 2. The network, unless it is failed over or earlier writes still wait in the journal
    //    (then this one queues behind them, so the network sees writes in order).
    if (!this.#primaryActive() || journal.size > 0) {
      this.#journalAppend(journal, 'put', key, value)
      this.#kickReplay(false)
      return { key, acks: [], storedLocally: localStored }
    }
    try {
      const result = await this.#call('real', 'putValue', options.signal, (signal) =>
        this.#primary.putValue(key, value, {
          signal,
          ...(options.minAcks !== undefined ? { minAcks: options.minAcks } : {})
        })
      )
      return { key, acks: result.acks, storedLocally: localStored || result.storedLocally }
    } catch (err) {
      if (isInvalid(err)) throw err
      // No peer took it (NoPeersAcknowledgedError: not on the network yet), a timeout, an error,
      // or shutdown: the write is journaled and reaches the network on replay.
      this.#journalAppend(journal, 'put', key, value)
      if (options.signal?.aborted === true) throw err
      this.#log.debug({ key, err: describe(err) }, 'put journaled: the network did not take it')
      // The primary just failed this write: give it a moment before a replay tries again.
      this.#replayBackoffUntil = Date.now() + this.#replayBackoff()
      return { key, acks: [], storedLocally: localStored }
    }
  }

  getValue(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    return this.#track(this.#get(key, options))
  }

  async #get(key: string, options: GetOptions): Promise<Uint8Array> {
    const journal = this.#started('getValue')
    throwIfAborted(options.signal)
    const primaryActive = this.#primaryActive()
    // The local copy is the newest this node knows while the network lacks a journaled write.
    const localFirst = !primaryActive || journal.has('put', key)
    let localError: unknown
    let remoteError: unknown
    if (localFirst) {
      const local = await this.#readLocal(key, options)
      if (local.value !== undefined) return local.value
      localError = local.error
    }
    if (primaryActive) {
      try {
        return await this.#call('real', 'getValue', options.signal, (signal) =>
          this.#primary.getValue(key, { ...options, signal })
        )
      } catch (err) {
        if (options.signal?.aborted === true || isInvalid(err)) throw err
        if (!isNotFound(err)) remoteError = err
      }
      if (!localFirst) {
        const local = await this.#readLocal(key, options)
        if (local.value !== undefined) return local.value
        localError = local.error
      }
    } else {
      // Failed over: the primary's own record store still answers without the network.
      const own = await this.#readPrimaryStore(key, options)
      if (own !== undefined) return own
    }
    // Nothing here. Say why as the backend that could not look would have said it: a network
    // timeout stays a DhtTimeoutError (not a NotFoundError that claims the value does not exist).
    if (remoteError !== undefined && localError !== undefined) {
      throw new BackendsUnavailableError('getValue', { cause: remoteError })
    }
    if (remoteError !== undefined) throw remoteError
    if (localError !== undefined && !primaryActive) {
      throw new BackendsUnavailableError('getValue', { cause: localError })
    }
    throw new NotFoundError(key)
  }

  async #readLocal(key: string, options: GetOptions): Promise<{ value?: Uint8Array; error?: unknown }> {
    try {
      return {
        value: await this.#call('mock', 'getValue', options.signal, (signal) =>
          this.#fallback.getValue(key, { signal })
        )
      }
    } catch (err) {
      if (options.signal?.aborted === true || isInvalid(err)) throw err
      return isNotFound(err) ? {} : { error: err }
    }
  }

  async #readPrimaryStore(key: string, options: GetOptions): Promise<Uint8Array | undefined> {
    try {
      const values = await withTimeout(
        'real getValues',
        this.#opts.operationTimeout,
        [options.signal, this.#lifetime.signal],
        (signal) => this.#primary.getValues(key, { localOnly: true, signal })
      )
      return values[0]?.value
    } catch {
      if (options.signal?.aborted === true) throw abortError(options.signal)
      return undefined
    }
  }

  getValues(key: string, options: GetOptions = {}): Promise<ReceivedValue[]> {
    return this.#track(this.#getValues(key, options))
  }

  async #getValues(key: string, options: GetOptions): Promise<ReceivedValue[]> {
    const journal = this.#started('getValues')
    throwIfAborted(options.signal)
    const primaryActive = this.#primaryActive()
    let remote: ReceivedValue[] = []
    let remoteError: unknown
    if (primaryActive) {
      try {
        remote = await this.#call('real', 'getValues', options.signal, (signal) =>
          this.#primary.getValues(key, { ...options, signal })
        )
      } catch (err) {
        if (options.signal?.aborted === true || isInvalid(err)) throw err
        if (!isNotFound(err)) remoteError = err
      }
    }
    if (primaryActive && remote.length > 0 && !journal.has('put', key)) return remote
    let local: ReceivedValue[] = []
    let localError: unknown
    try {
      local = await this.#call('mock', 'getValues', options.signal, (signal) =>
        this.#fallback.getValues(key, { signal })
      )
    } catch (err) {
      if (options.signal?.aborted === true || isInvalid(err)) throw err
      if (!isNotFound(err)) localError = err
    }
    if (local.length === 0 && !primaryActive) {
      const own = await this.#readPrimaryStore(key, options)
      if (own !== undefined) local = [{ value: own, from: 'self' }]
    }
    if (local.length === 0) {
      if (remote.length > 0) return remote
      if (remoteError !== undefined && localError !== undefined) {
        throw new BackendsUnavailableError('getValues', { cause: remoteError })
      }
      if (remoteError !== undefined) throw remoteError
      if (localError !== undefined && !primaryActive) {
        throw new BackendsUnavailableError('getValues', { cause: localError })
      }
      return []
    }
    // This node's own answer is the local one: it holds writes the network may not have yet.
    return [
      ...local.map((v) => ({ value: v.value, from: 'self' })),
      ...remote.filter((v) => v.from !== 'self')
    ]
  }

  provide(key: string, options: ProvideOptions = {}): Promise<void> {
    return this.#track(this.#provide(key, options))
  }

  async #provide(key: string, options: ProvideOptions): Promise<void> {
    const journal = this.#started('provide')
    throwIfAborted(options.signal)
    try {
      await this.#call('mock', 'provide', options.signal, (signal) => this.#fallback.provide(key, { signal }))
    } catch (err) {
      if (isInvalid(err) || options.signal?.aborted === true || this.#lifetime.signal.aborted) throw err
      this.#log.warn({ key, err: describe(err) }, 'local backend could not record a provide')
    }
    if (!this.#primaryActive()) {
      this.#journalAppend(journal, 'provide', key, EMPTY)
      return
    }
    try {
      await this.#call('real', 'provide', options.signal, (signal) => this.#primary.provide(key, { signal }))
    } catch (err) {
      if (isInvalid(err)) throw err
      this.#journalAppend(journal, 'provide', key, EMPTY)
      if (options.signal?.aborted === true) throw err
    }
  }

  findProviders(key: string, options: FindProvidersOptions = {}): Promise<PeerInfo[]> {
    return this.#track(this.#findProviders(key, options))
  }

  async #findProviders(key: string, options: FindProvidersOptions): Promise<PeerInfo[]> {
    this.#started('findProviders')
    throwIfAborted(options.signal)
    const limit = options.limit ?? 20
    let local: PeerInfo[] = []
    try {
      local = await this.#call('mock', 'findProviders', options.signal, (signal) =>
        this.#fallback.findProviders(key, { limit, signal })
      )
    } catch (err) {
      if (isInvalid(err) || options.signal?.aborted === true) throw err
    }
    if (!this.#primaryActive()) return local.slice(0, limit)
    let remote: PeerInfo[] = []
    try {
      remote = await this.#call('real', 'findProviders', options.signal, (signal) =>
        this.#primary.findProviders(key, { limit, signal })
      )
    } catch (err) {
      if (isInvalid(err) || options.signal?.aborted === true) throw err
    }
    const byId = new Map<string, PeerInfo>()
    for (const p of [...remote, ...local]) if (!byId.has(p.id)) byId.set(p.id, p)
    return [...byId.values()].slice(0, limit)
  }

  getClosestPeers(key: string, options: ClosestPeersOptions = {}): Promise<PeerInfo[]> {
    return this.#track(this.#closest(key, options))
  }

  async #closest(key: string, options: ClosestPeersOptions): Promise<PeerInfo[]> {
    this.#started('getClosestPeers')
    throwIfAborted(options.signal)
    if (this.#primaryActive()) {
      try {
        return await this.#call('real', 'getClosestPeers', options.signal, (signal) =>
          this.#primary.getClosestPeers(key, { ...options, signal })
        )
      } catch (err) {
        if (isInvalid(err) || options.signal?.aborted === true) throw err
      }
    }
    return this.#call('mock', 'getClosestPeers', options.signal, (signal) =>
      this.#fallback.getClosestPeers(key, { ...options, signal })
    )
  }
}

function checkMode(mode: unknown): BackendMode {
  if (!MODES.includes(mode as BackendMode)) {
    throw new HybridConfigError(`backend mode must be one of ${MODES.join(', ')}; got ${String(mode)}`)
  }
  return mode as BackendMode
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new HybridConfigError(`${name} must be a positive number of ms; got ${String(value)}`)
  }
  return value
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HybridConfigError(`${name} must be 0 or a positive number of ms; got ${String(value)}`)
  }
  return value
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) {
    throw new HybridConfigError(`${name} must be an integer >= 1; got ${String(value)}`)
  }
  return value
}

/**
 * Creates a started HybridDHT over a network primary and a local fallback.
 *
 * @example
 * const primary = await createLibP2PDHT({ dataDir, records, bootstrapPeers })
 * const fallback = createLocalDHT({ dataDir, records, peerId: primary.peerId })
 * const dht = createHybridDHT({ primary, fallback, logger }, { dataDir })
 * await dht.putValue(key, value)      // lands locally, and on the network or in the journal
 * dht.getBackendHealth().real.status  // 'healthy' | 'degraded' | 'failed'
 */
export function createHybridDHT(components: HybridDHTComponents, init: HybridDHTInit = {}): HybridDHT {
  return new HybridDHTImpl(components, init)
}
