import { setMaxListeners } from 'node:events'
import { BackgroundTasks, type Logger, silentLogger, throwIfAborted } from '@chorus/common'
import {
  type ClosestPeersOptions,
  type DHT,
  dhtNotStarted,
  type FindProvidersOptions,
  type GetOptions,
  type PeerInfo,
  type ProvideOptions,
  type ProvideResult,
  type PutOptions,
  type PutResult,
  type ReceivedValue,
  type RecordRules
} from '@chorus/dht'
import { BackendCalls } from './backend-calls.js'
import { valueChooser } from './choose.js'
import { type HybridDHTInit, type ResolvedHybridInit, resolveInit } from './config.js'
import { HybridConfigError } from './errors.js'
import { FailoverState } from './failover.js'
import { closestPeersProbe } from './probe.js'
import { Prober } from './prober.js'
import { ReadPath } from './reads.js'
import { JournalReplayer } from './replayer.js'
import type { BackendHealth, BackendMode, BackendName, HybridMetrics, ReplayResult } from './types.js'
import { WritePath } from './writes.js'

export interface HybridDHTComponents {
  /** The network backend ("real"), normally a `LibP2PDHT`. The hybrid never starts or stops it. */
  primary: DHT
  /**
   * The local backend ("mock"), normally `createLocalDHT({ dataDir, records, peerId })` with the
   * same record rules and the primary's peer id. Every put lands here too. Never started or stopped
   * by the hybrid.
   */
  fallback: DHT
  /**
   * The record selectors both backends run. With them, a read of a key that has a journaled put
   * returns the best of the local and the network value, and a journaled put the network has
   * superseded (it holds a better record) leaves the journal instead of blocking it. Default: none
   * (such a read prefers the local value; such a put stays journaled until the network takes it).
   */
  records?: Pick<RecordRules, 'selectors'>
  /** Where to log. Default: no logging. */
  logger?: Logger
}

/**
 * A `DHT` over a network primary ("real") and a persistent local fallback ("mock"), with health
 * tracking, automatic fail-over and fail-back, manual switching and a write journal.
 * `createHybridDHT` returns it started.
 */
export interface HybridDHT extends DHT {
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

/**
 * The facade: builds the components from `components` and `init`, starts them in order (journal,
 * then probe) and stops them in reverse; each method delegates.
 *
 * - {@link FailoverState}: health of both backends, mode, fail-over and fail-back;
 * - {@link BackendCalls}: every backend call, under the time limit, booked in metrics and health;
 * - {@link JournalReplayer}: the write journal and its replay;
 * - {@link Prober}: the periodic health probe;
 * - {@link WritePath} and {@link ReadPath}: the `DHT` operations, with the fallback decisions of
 *   `fallback.ts`.
 */
class HybridDHTImpl implements HybridDHT {
  readonly #log: Logger
  readonly #init: ResolvedHybridInit
  readonly #failover: FailoverState
  readonly #calls: BackendCalls
  readonly #replayer: JournalReplayer
  readonly #prober: Prober
  readonly #writes: WritePath
  readonly #reads: ReadPath
  /** Operations, probes and replays in flight: `stop()` waits for them (a put may still journal). */
  readonly #tasks = new BackgroundTasks()
  #lifetime = new AbortController()
  /** Both backends: `removeLocal` drops a record from each, `noteProviders` notes in each. */
  readonly #backends: DHT[]
  #stopping: Promise<void> | undefined

  constructor(components: HybridDHTComponents, init: HybridDHTInit) {
    if (components?.primary == null || components.fallback == null) {
      throw new HybridConfigError('createHybridDHT needs components.primary and components.fallback')
    }
    const { primary, fallback } = components
    const choose = valueChooser(components.records)
    this.#backends = [primary, fallback]
    const logger = components.logger ?? silentLogger
    const opts = resolveInit(init)
    const lifetime = (): AbortSignal => this.#lifetime.signal
    this.#log = logger
    this.#init = opts
    this.#failover = new FailoverState({ logger, onPrimaryRecovered: () => this.#replayer.kick(true) }, opts)
    this.#calls = new BackendCalls({ lifetime, health: this.#failover }, opts)
    this.#replayer = new JournalReplayer(
      { primary, calls: this.#calls, failover: this.#failover, lifetime, logger, tasks: this.#tasks, choose },
      {
        dataDir: opts.dataDir,
        synchronous: opts.synchronous,
        concurrency: opts.replayConcurrency,
        // Puts wait this long after the primary failed a write: 1 s, or the probe interval when shorter.
        backoff: Math.min(1_000, opts.probeInterval || 1_000)
      }
    )
    this.#prober = new Prober(
      {
        primary,
        calls: this.#calls,
        isStarted: () => this.isStarted(),
        onPassed: () => this.#replayer.kick(false),
        tasks: this.#tasks
      },
      { probe: opts.probe ?? closestPeersProbe, interval: opts.probeInterval, timeout: opts.probeTimeout }
    )
    const paths = {
      primary,
      fallback,
      calls: this.#calls,
      failover: this.#failover,
      journal: this.#replayer,
      lifetime,
      logger,
      choose
    }
    this.#writes = new WritePath(paths)
    this.#reads = new ReadPath(paths)
    this.#open()
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    // A start during a stop waits for it, then opens again.
    await this.#stopping
    this.#open()
  }

  #open(): void {
    if (this.#replayer.isOpen) return
    this.#replayer.start()
    this.#lifetime = new AbortController()
    // Every operation in flight listens on it; many at once is normal, not a leak.
    setMaxListeners(Number.POSITIVE_INFINITY, this.#lifetime.signal)
    if (this.#init.dataDir === undefined) {
      this.#log.warn(
        'hybrid dht without dataDir: the write journal is in memory and does not survive a restart'
      )
    }
    this.#log.info(
      { mode: this.#failover.mode, pending: this.#replayer.size, dataDir: this.#init.dataDir ?? ':memory:' },
      'hybrid dht started'
    )
    this.#prober.start()
  }

  async stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined
    })
    return this.#stopping
  }

  async #stop(): Promise<void> {
    if (!this.#replayer.isOpen) return
    this.#prober.stop()
    this.#lifetime.abort(dhtNotStarted('HybridDHT'))
    // Operations in flight may still journal what they could not send: let them.
    await this.#tasks.drain()
    const pending = this.#replayer.size
    await this.#replayer.stop()
    this.#log.info({ pending }, 'hybrid dht stopped')
  }

  async close(): Promise<void> {
    await this.stop()
  }

  isStarted(): boolean {
    return this.#replayer.isOpen && !this.#lifetime.signal.aborted
  }

  /** Runs `fn` as a tracked operation once the hybrid is started and `signal` not aborted. */
  #op<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return this.#tasks.track(
      (async () => {
        if (!this.isStarted()) throw dhtNotStarted(`HybridDHT (${what})`)
        throwIfAborted(signal)
        return fn()
      })()
    )
  }

  // ------------------------------------------------------------------ routing and health

  getMode(): BackendMode {
    return this.#failover.mode
  }

  getActiveBackend(): BackendName {
    return this.#failover.activeBackend()
  }

  switchBackend(mode: BackendMode): void {
    if (this.#failover.switchBackend(mode) && this.isStarted()) this.#replayer.kick(true)
  }

  getBackendHealth(): Record<BackendName, BackendHealth> {
    return this.#failover.health()
  }

  getMetrics(): HybridMetrics {
    return {
      mode: this.#failover.mode,
      activeBackend: this.#failover.activeBackend(),
      ...this.#failover.counters(),
      backends: this.#calls.metrics(),
      journal: this.#replayer.metrics()
    }
  }

  pendingWrites(): number {
    return this.#replayer.size
  }

  probe(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.#op('probe', options.signal, () => this.#prober.probe(options.signal))
  }

  replayJournal(): Promise<ReplayResult> {
    return this.#op('replayJournal', undefined, () => this.#replayer.replay())
  }

  // ------------------------------------------------------------------ the DHT contract

  putValue(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    return this.#op('putValue', options.signal, () => this.#writes.put(key, value, options))
  }

  /** Drops this node's own record for the key from both backends (no network operation). */
  async removeLocal(key: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    let removed = false
    for (const b of this.#backends) {
      if (b.removeLocal !== undefined && (await b.removeLocal(key, options))) removed = true
    }
    return removed
  }

  /** Each backend that keeps provider records notes them (nothing is sent, nothing journaled). */
  async noteProviders(
    key: string,
    peers: readonly string[],
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    for (const b of this.#backends)
      if (b.noteProviders !== undefined) await b.noteProviders(key, peers, options)
  }

  /** The network backend's answer (the peers are its peers); every peer when it cannot tell. */
  isDHTServer(peer: string): boolean {
    return this.#backends[0]?.isDHTServer?.(peer) ?? true
  }

  getValue(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    return this.#op('getValue', options.signal, () => this.#reads.getValue(key, options))
  }

  getValues(key: string, options: GetOptions = {}): Promise<ReceivedValue[]> {
    return this.#op('getValues', options.signal, () => this.#reads.getValues(key, options))
  }

  provide(key: string, options: ProvideOptions = {}): Promise<ProvideResult> {
    return this.#op('provide', options.signal, () => this.#writes.provide(key, options))
  }

  findProviders(key: string, options: FindProvidersOptions = {}): Promise<PeerInfo[]> {
    return this.#op('findProviders', options.signal, () => this.#reads.findProviders(key, options))
  }

  getClosestPeers(key: string, options: ClosestPeersOptions = {}): Promise<PeerInfo[]> {
    return this.#op('getClosestPeers', options.signal, () => this.#reads.getClosestPeers(key, options))
  }
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
