/**
 * The replication manager, a facade over its components (as `@libp2p/kad-dht`'s `kad-dht.ts`):
 * it builds them from one `components` object and its `init`, starts them in order, stops them
 * in reverse, and each public method delegates to one of them.
 *
 * - {@link ContentEntries} (`entries.ts`): the managed keys and their rows in SQLite;
 * - {@link PeerLiveness} (`liveness.ts`): is a peer reachable (connection, ping);
 * - {@link ProviderCache} (`providers.ts`): who may hold a key, liveness-checked;
 * - {@link ProviderFinder} (`provider-finder.ts`, `quality.ts`): `findProviders` from the cache, rated;
 * - {@link PossessionVerifier} (`possession.ts`): who proved it holds the value (only they count);
 * - {@link HealthTracker} (`health.ts`): status and health of a key;
 * - {@link Pusher} (`pusher.ts`): copies a value to the closest reachable peers;
 * - {@link Repairer} (`repairer.ts`): counts live holders and repairs;
 * - {@link Reprovider} (`reprovider.ts`): provide, reprovide, republish, re-serve pins;
 * - {@link LocalContent} (`content.ts`): `addContent` / `removeContent`;
 * - {@link DepartureWatch} (`departures.ts`): a co-holder left, check its keys soon;
 * - {@link Scheduler} (`scheduler.ts`): the timer and the two job queues;
 * - {@link ReplicateServer} (`rpc/`): the `/CHORUS/replicate/1.0.0` edge, rate limits and its
 *   handlers (replicate, prove, ping, sync);
 * - {@link Sweeper} (`sweep/`): reprovide, republish and repair of healthy keys as a keyspace sweep
 *   with anti-entropy ({@link SyncHandler} answers its messages).
 *
 * Why it is long: it wires sixteen components, each with its narrow components and init, and
 * delegates the public API to them; the logic lives in the components.
 */
import { anySignal, errorText, type Logger, silentLogger } from '@chorus/common'
import type { AbortOptions, ProvideResult } from '@chorus/dht'
import type {
  AddContentOptions,
  RepairResult,
  ReplicationComponents,
  ReplicationEvents,
  ReplicationManager,
  ReplicationPenalty,
  StatusOptions
} from './api.js'
import {
  DEFAULT_PROTOCOL_PREFIX,
  type ReplicationConfig,
  type ReplicationInit,
  resolveConfig
} from './config.js'
import { LocalContent } from './content.js'
import { DepartureWatch } from './departures.js'
import { ContentEntries } from './entries.js'
import {
  InvalidArgumentError,
  ReplicationNotStartedError,
  UnknownContentError,
  ValueUnavailableError
} from './errors.js'
import { HealthTracker } from './health.js'
import { PeerLiveness } from './liveness.js'
import { buildMetrics, createCounters } from './metrics.js'
import { Offences } from './offences.js'
import { PossessionVerifier } from './possession.js'
import { REPLICATE_PROTOCOL_SUFFIX } from './protocol.js'
import { ProviderFinder } from './provider-finder.js'
import { ProviderCache } from './providers.js'
import { Pusher } from './pusher.js'
import { Repairer } from './repairer.js'
import { Reprovider } from './reprovider.js'
import { RetiredKeys } from './retired.js'
import { handleProve } from './rpc/handlers/prove.js'
import { adoptStored, handleReplicate } from './rpc/handlers/replicate.js'
import { SyncHandler } from './rpc/handlers/sync.js'
import { ReplicateServer } from './rpc/index.js'
import { Scheduler } from './scheduler.js'
import { Sweeper } from './sweep/sweeper.js'
import { nextHealthyCheck, SWEPT } from './timing.js'
import type { ProviderInfo, ReplicationMetrics, ReplicationStatus } from './types.js'
import { checkKey } from './util.js'
import { RecordValues } from './values.js'

type Listener = Parameters<EventTarget['addEventListener']>[1]

/** Rows the background backfill fills per step, and the pause between steps (ms). */
const BACKFILL_BATCH = 500
const BACKFILL_PAUSE = 20

class DefaultReplicationManager extends EventTarget implements ReplicationManager {
  readonly config: Readonly<ReplicationConfig>
  readonly protocol: string
  private readonly log: Logger
  private readonly messaging: ReplicationComponents['messaging']
  private readonly onPinned: ReplicationInit['onPinned']
  private readonly counters = createCounters()
  private readonly entries: ContentEntries
  private readonly retired = new RetiredKeys()
  private readonly liveness: PeerLiveness
  private readonly values: RecordValues
  private readonly providers: ProviderCache
  private readonly verifier: PossessionVerifier
  private readonly finder: ProviderFinder
  private readonly health: HealthTracker
  private readonly pusher: Pusher
  private readonly repairer: Repairer
  private readonly reprovider: Reprovider
  private readonly content: LocalContent
  private readonly departures: DepartureWatch
  private readonly scheduler: Scheduler
  private readonly server: ReplicateServer
  private readonly syncHandler: SyncHandler
  /** Pins what the record store accepted over another protocol (`adoptStoredReplica`). */
  private readonly adopt: (key: string, value: Uint8Array, from: string) => boolean
  private readonly sweeper: Sweeper
  private started = false
  private controller: AbortController | undefined
  /** The background pass that re-serves every pin after start (never on start's path). */
  private reserving: Promise<void> | undefined
  private backfillTimer: ReturnType<typeof setTimeout> | undefined

  constructor(components: ReplicationComponents, init: ReplicationInit) {
    super()
    if (
      components?.dht == null ||
      components.messaging == null ||
      typeof components.validate !== 'function'
    ) {
      throw new InvalidArgumentError('components', 'dht, messaging and validate are required')
    }
    const config = resolveConfig(init ?? {})
    this.config = Object.freeze(config)
    this.protocol = `${init?.protocolPrefix ?? DEFAULT_PROTOCOL_PREFIX}${REPLICATE_PROTOCOL_SUFFIX}`
    const { dht, messaging } = components
    const log = components.logger ?? silentLogger
    const peerId = messaging.peerId
    const counters = this.counters
    this.log = log
    this.messaging = messaging
    this.onPinned = init?.onPinned
    const isStarted = (): boolean => this.started
    const store = () => this.entries.store
    const offences = new Offences({ reputation: components.reputation, counters, log })
    const penalise = (peer: string, reason: ReplicationPenalty): void => offences.penalise(peer, reason)
    // only copies on DHT servers are readable by the network (a DHT without the method: every peer)
    const isServer = (peer: string): boolean => dht.isDHTServer?.(peer) ?? true
    const servers = function* (peers: Iterable<string>): Iterable<string> {
      for (const p of peers) if (isServer(p)) yield p
    }

    this.entries = new ContentEntries({
      dataDir: init?.dataDir,
      config,
      onCommitError: (err) => log.error({ err: errorText(err) }, 'replication: state not committed')
    })
    this.liveness = new PeerLiveness(
      {
        messaging,
        log,
        store: () => (this.started ? this.entries.store : undefined),
        signal: () => this.controller?.signal
      },
      { protocol: this.protocol, livenessTTL: config.livenessTTL, requestTimeout: config.requestTimeout }
    )
    this.values = new RecordValues({ dht, validate: components.validate }, config)
    this.providers = new ProviderCache(
      { dht, peerId, store, holds: (key) => this.entries.holds(key), liveness: this.liveness, counters, log },
      config
    )
    this.verifier = new PossessionVerifier(
      {
        messaging,
        providers: this.providers,
        entries: this.entries,
        values: this.values,
        store,
        penalise,
        counters,
        log
      },
      { ...config, protocol: this.protocol }
    )
    const challengeFailed = (key: string, peer: string) => this.verifier.failedRecently(key, peer)
    const quality = { peerId, store, challengeFailed, reputation: components.reputation }
    const lifetime = () => (this.started ? this.controller?.signal : undefined)
    const finderComponents = { verifier: this.verifier, providers: this.providers, quality, lifetime }
    this.finder = new ProviderFinder({ ...finderComponents, counters, log }, config)
    this.health = new HealthTracker(
      { entries: this.entries, peerId, isServer, emitHealth: (e) => this.emit('health', e) },
      config
    )
    this.pusher = new Pusher(
      {
        messaging,
        dht,
        liveness: this.liveness,
        isServer,
        recordHolder: (key, peer, digest) => this.providers.proven(key, peer, digest),
        penalise,
        emitReplicated: (e) => this.emit('replicated', e),
        counters,
        log
      },
      { ...config, protocol: this.protocol }
    )
    this.repairer = new Repairer(
      {
        entries: this.entries,
        providers: this.providers,
        holders: this.verifier,
        pusher: this.pusher,
        health: this.health,
        values: this.values,
        peerId,
        isServer,
        emitHealth: (e) => this.emit('health', e),
        counters,
        log
      },
      config
    )
    const touchSelf = (key: string, at: number) => this.providers.touch(key, peerId, at)
    this.reprovider = new Reprovider({ dht, entries: this.entries, touchSelf, counters, log }, config)
    this.departures = new DepartureWatch(
      {
        messaging,
        entries: this.entries,
        self: peerId,
        isServer,
        forget: (peer) => {
          this.liveness.forget(peer)
          this.sweeper.forget(peer)
          this.syncHandler.forget(peer)
        },
        log
      },
      config
    )
    this.scheduler = new Scheduler(
      {
        entries: this.entries,
        jobs: {
          repair: (entry, signal) => this.repairer.checkAndRepair(entry, signal, false),
          provide: (entry, signal) => this.reprovider.reprovide(entry, signal),
          republish: (entry, signal) => this.reprovider.republish(entry, signal),
          cleanup: () => this.providers.cleanup(),
          tick: (now) => this.departures.check(now)
        },
        log
      },
      config
    )
    this.content = new LocalContent(
      {
        entries: this.entries,
        dht,
        values: this.values,
        emitPinned: (e) => this.emit('pinned', e),
        emitUnpinned: (e) => this.emit('unpinned', e),
        enqueue: (kind, entry) => this.scheduler.enqueue(kind, entry),
        touchProvider: (key, peer) => this.providers.touch(key, peer),
        peerId,
        isServer,
        healthOf: (actual) => this.entries.healthOf(actual),
        log
      },
      config
    )
    const replicateComponents = {
      entries: this.entries,
      dht,
      values: this.values,
      select: components.select,
      succession: components.succession,
      peerId,
      // whether this node is among a key's closest is judged among the servers it is connected to
      connected: () => servers(this.liveness.connected()),
      isStarted,
      nominate: (key: string, peers: string[], at: number) => this.providers.nominate(key, peers, at),
      noteLive: (peer: string) => this.liveness.note(peer, true),
      pinned: (e: ReplicationEvents['pinned']) => this.pinnedByPeer(e),
      retired: this.retired,
      equivocation: (e: ReplicationEvents['equivocation']) => this.emit('equivocation', e),
      penalise,
      wake: () => this.scheduler.arm(0),
      counters,
      log
    }
    this.adopt = (key, value, from) => adoptStored(replicateComponents, config, key, value, from)
    const ranges = () => this.entries.store
    const recordHolder = (key: string, peer: string, digest: Uint8Array) =>
      this.providers.proven(key, peer, digest)
    this.syncHandler = new SyncHandler(
      {
        ranges,
        peerId,
        replicate: (req, from) => handleReplicate(replicateComponents, config, req, from),
        nominate: (key, peers, at) => this.providers.nominate(key, peers, at),
        swept: (key) => {
          const e = this.entries.get(key)
          if (e == null) return
          const now = Date.now()
          e.lastReprovided = now
          e.nextProvideAt = SWEPT
          // its sender holds it and counts this node among its holders now: no per-key check soon
          // (a refilled node checked every key it received, and pushed each to a holder again)
          if (e.repairFailures === 0) e.nextRepairAt = Math.max(e.nextRepairAt, nextHealthyCheck(config, now))
          this.entries.persist(e)
        },
        penalise,
        counters
      },
      config
    )
    this.sweeper = new Sweeper(
      {
        dht,
        messaging,
        ranges,
        heldKeys: () => this.entries.size,
        recordHolder,
        isServer,
        // a region sync confirmed the keys' holders: their per-key checks wait for the sweep
        confirmed: (keys, times) => this.entries.confirmHolders(keys, times),
        penalise,
        counters,
        log
      },
      { ...config, protocol: this.protocol, dataDir: init?.dataDir }
    )
    this.server = new ReplicateServer(
      {
        messaging,
        isStarted,
        replicate: (req, from) => handleReplicate(replicateComponents, config, req, from),
        prove: (req) => handleProve({ entries: this.entries }, req),
        sync: (req, from) =>
          req.op === 'sync'
            ? this.syncHandler.summary(req, from)
            : req.op === 'sync-leaves'
              ? this.syncHandler.leaves(req, from)
              : this.syncHandler.records(req, from),
        heldBytes: (key) => this.entries.get(key)?.size ?? 0,
        penalise,
        counters,
        log
      },
      { ...config, protocol: this.protocol }
    )
  }

  // ---------------------------------------------------------------- lifecycle

  isStarted(): boolean {
    return this.started
  }

  /**
   * Opens the store (no per-key work: the schedule is persisted), serves the protocol and starts
   * the scheduler. Re-serving every pin from the DHT record store, and filling rows an older
   * version wrote, run in the background afterwards.
   */
  async start(): Promise<void> {
    if (this.started) return
    this.entries.open()
    this.controller = new AbortController()
    this.scheduler.start(this.controller.signal)
    await this.server.start()
    this.started = true
    this.log.info({ keys: this.entries.size, protocol: this.protocol }, 'replication: started')
    this.scheduler.arm()
    if (this.config.enableSweep) this.sweeper.start(this.controller.signal)
    this.reserving = this.reprovider
      .reserve(this.controller.signal)
      .then((reserved) => this.log.debug({ reserved }, 'replication: pins re-served'))
      .catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'replication: re-serving pins failed'))
    this.backfill()
  }

  /** Fills rows an older version wrote, a batch at a time, while started. */
  private backfill(): void {
    this.backfillTimer = undefined
    if (!this.started) return
    let more = false
    try {
      more = this.entries.backfill(BACKFILL_BATCH)
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'replication: backfill failed')
    }
    if (!more) return
    this.backfillTimer = setTimeout(() => this.backfill(), BACKFILL_PAUSE)
    this.backfillTimer.unref?.()
  }

  /** The reverse: stop ticking, abort running jobs, stop serving, wait for the jobs, close the store. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.entries.seal()
    if (this.backfillTimer != null) clearTimeout(this.backfillTimer)
    this.backfillTimer = undefined
    this.scheduler.halt()
    this.controller?.abort(new Error('replication manager stopped'))
    await this.server.stop()
    // running jobs see the aborted signal; wait for them so nothing touches the store after close
    await this.scheduler.drain()
    await this.sweeper.stop()
    this.syncHandler.clear()
    await this.finder.drain()
    this.finder.clear()
    // the re-serving pass reads no more once the store is closed
    this.entries.close()
    await this.reserving
    this.reserving = undefined
    this.liveness.clear()
    this.verifier.clear()
    this.departures.reset()
    this.log.info({}, 'replication: stopped')
  }

  private requireStarted(): AbortSignal {
    if (!this.started || this.entries.store == null || this.controller == null) {
      throw new ReplicationNotStartedError()
    }
    return this.controller.signal
  }

  /** The lifetime signal, and the caller's when given. */
  private signalWith(options: AbortOptions): AbortSignal {
    const signal = this.requireStarted()
    return options.signal == null ? signal : anySignal(signal, options.signal)
  }

  // ---------------------------------------------------------------- public API

  async addContent(
    key: string,
    size: number,
    priority: number,
    options: AddContentOptions = {}
  ): Promise<void> {
    this.requireStarted()
    checkKey(key)
    this.retired.delete(key)
    await this.content.add(key, size, priority, options)
  }

  async retireContent(keys: string[], _options: AbortOptions = {}): Promise<number> {
    this.requireStarted()
    for (const key of keys) checkKey(key)
    let managed = 0
    for (const key of keys) {
      this.retired.add(key)
      if (this.entries.has(key)) {
        this.content.remove(key)
        managed++
      }
    }
    return managed
  }

  async removeContent(key: string, _options: AbortOptions = {}): Promise<void> {
    this.requireStarted()
    checkKey(key)
    this.content.remove(key)
  }

  async provideContent(key: string, options: AbortOptions = {}): Promise<ProvideResult> {
    this.requireStarted()
    return { key, peers: await this.reprovider.provide(this.managed(key), options.signal) }
  }

  async findProviders(key: string, limit?: number, options: AbortOptions = {}): Promise<ProviderInfo[]> {
    const signal = this.signalWith(options)
    checkKey(key)
    const max = limit ?? this.config.maxProvidersPerKey
    if (!Number.isInteger(max) || max < 1) throw new InvalidArgumentError('limit', 'must be an integer >= 1')
    return this.finder.find(key, max, signal)
  }

  adoptStoredReplica(key: string, value: Uint8Array, from: string): boolean {
    return this.started && this.adopt(key, value, from)
  }

  knownHolders(key: string): string[] {
    return this.started ? this.providers.knownHolders(key) : []
  }

  async getReplicationStatus(key: string, options: StatusOptions = {}): Promise<ReplicationStatus> {
    const signal = this.signalWith(options)
    checkKey(key)
    let providers = options.refresh === true ? [] : await this.verifier.holders(key, signal, false)
    if (providers.filter((p) => p.live && p.proven).length < this.config.replicationFactor) {
      providers = await this.verifier.holders(key, signal, true)
    }
    return this.health.status(key, this.finder.rate(key, providers))
  }

  getMetrics(): ReplicationMetrics {
    const totalProviders = this.entries.store?.countProviders() ?? 0
    return buildMetrics(this.entries.stats(), totalProviders, this.counters)
  }

  async repair(key: string, options: AbortOptions = {}): Promise<RepairResult> {
    const signal = this.signalWith(options)
    return this.repairer.checkAndRepair(this.managed(key), signal, true)
  }

  async replicateTo(peer: string, key: string, options: AbortOptions = {}): Promise<void> {
    const signal = this.signalWith(options)
    const entry = this.managed(key)
    const value = this.entries.value(key)
    if (value == null) throw new ValueUnavailableError(key)
    await this.pusher.push(peer, entry, value, signal)
  }

  listContent(prefix?: string): string[] {
    return this.entries.keys(prefix)
  }

  hasContent(key: string): boolean {
    return this.started && this.entries.has(key)
  }

  getPinnedValue(key: string): Uint8Array | undefined {
    return this.entries.value(key)
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

  // ---------------------------------------------------------------- internals

  /** The managed entry of the key; throws when the key is malformed or not managed. */
  private managed(key: string) {
    checkKey(key)
    const entry = this.entries.get(key)
    if (entry == null) throw new UnknownContentError(key)
    return entry
  }

  private emit<K extends keyof ReplicationEvents>(type: K, detail: ReplicationEvents[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }

  /** A value a peer pushed was pinned: counted, announced as an event and to `onPinned`. */
  private pinnedByPeer(event: ReplicationEvents['pinned']): void {
    this.counters.replicasReceived++
    this.emit('pinned', event)
    if (this.onPinned == null) return
    Promise.resolve()
      .then(() => this.onPinned?.(event))
      .catch((err: unknown) =>
        this.log.warn({ key: event.key, err: errorText(err) }, 'replication: onPinned failed')
      )
  }
}

/** Creates a replication manager; call `start()` before using it. */
export function createReplicationManager(
  components: ReplicationComponents,
  init: ReplicationInit = {}
): ReplicationManager {
  return new DefaultReplicationManager(components, init)
}
