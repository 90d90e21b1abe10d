import { anySignal, errorText, type Logger, pause } from '@chorus/common'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions } from '../contract.js'
import { BootstrapError, DHTConfigError } from '../errors.js'
import type { RunState, Scheduler } from './lifetime.js'

/** Throws `DHTConfigError` unless `addr` parses as a multiaddr. */
export function checkMultiaddr(addr: string): void {
  try {
    multiaddr(addr)
  } catch (err) {
    throw new DHTConfigError(`${JSON.stringify(addr)} is not a multiaddr`, { cause: err })
  }
}

/** A bootstrap address as a multiaddr; throws `DHTConfigError` when it names no `/p2p/<peer id>`. */
export function bootstrapMultiaddr(addr: string): Multiaddr {
  const ma = multiaddr(addr)
  if (ma.getComponents().find((c) => c.name === 'p2p') == null) {
    throw new DHTConfigError(`bootstrap address ${addr} has no /p2p/<peer id>`)
  }
  return ma
}

export interface BootstrapComponents {
  /** Dials a peer (the libp2p node's `dial`). */
  dial(addr: Multiaddr, options: AbortOptions): Promise<unknown>
  /** Size of the Kademlia routing table. */
  routingTableSize(): number
  /** Looks up this node's own neighbourhood (a closest-peers query for its id), to fill the table. */
  selfLookup(options: AbortOptions): Promise<void>
  /** Ids of the peers with an open connection. */
  connectedPeers(): string[]
  /** Called in the background after each successful bootstrap (announces `CHORUS:peer`). */
  onBootstrapped(signal: AbortSignal): Promise<void>
  run: RunState
  scheduler: Scheduler
  logger: Logger
}

export interface BootstrapInit {
  /** Multiaddrs with `/p2p/<id>` to join through. */
  bootstrapPeers: readonly string[]
  /** Time limit of one bootstrap, in ms. */
  bootstrapTimeout: number
  /** Bootstrap at start and retry while the node has no connection. */
  autoBootstrap: boolean
  /** Interval of the auto-bootstrap check, in ms. */
  autoBootstrapInterval: number
  /** For the error text: the kad protocol a bootstrap peer must serve. */
  kadProtocol: string
}

/**
 * Joining the network: dials the bootstrap peers, waits for a DHT server in the routing table,
 * looks up the node's own neighbourhood. With `autoBootstrap`, does it in the background at start
 * and again whenever the node has no connection.
 */
export class Bootstrap {
  readonly #c: BootstrapComponents
  readonly #init: BootstrapInit
  #peers: string[]
  #running: Promise<void> | undefined

  constructor(components: BootstrapComponents, init: BootstrapInit) {
    for (const addr of init.bootstrapPeers) checkMultiaddr(addr)
    this.#c = components
    this.#init = init
    this.#peers = [...init.bootstrapPeers]
  }

  /** The bootstrap peers: `init.bootstrapPeers` and those `bootstrap({ peers })` added. */
  get peers(): string[] {
    return [...this.#peers]
  }

  /** Schedules the initial bootstrap and the auto-bootstrap check (when `autoBootstrap`). */
  async start(): Promise<void> {
    if (!this.#init.autoBootstrap) return
    const { scheduler } = this.#c
    if (this.#peers.length > 0) scheduler.background('initial bootstrap', () => this.bootstrap())
    scheduler.every(this.#init.autoBootstrapInterval, 'auto-bootstrap', async () => {
      if (this.#peers.length > 0 && this.#c.connectedPeers().length === 0) await this.bootstrap()
    })
  }

  async stop(): Promise<void> {}

  /**
   * Bootstraps through `options.peers` (added to the bootstrap peers) or the configured peers;
   * concurrent calls without `peers` join the one already running. Nothing to do without peers.
   */
  async bootstrap(options: AbortOptions & { peers?: string[] } = {}): Promise<void> {
    this.#c.run.assertStarted('bootstrap')
    if (options.peers != null) {
      for (const p of options.peers) checkMultiaddr(p)
      this.#peers = [...new Set([...this.#peers, ...options.peers])]
      return this.#run(options.peers, options.signal)
    }
    if (this.#peers.length === 0) return
    this.#running ??= this.#run(this.#peers, options.signal).finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #run(peers: string[], callerSignal?: AbortSignal): Promise<void> {
    const { run, logger } = this.#c
    const timeout = this.#init.bootstrapTimeout
    const signal = anySignal(callerSignal, AbortSignal.timeout(timeout), run.signal)
    const results = await Promise.allSettled(
      peers.map(async (addr) => {
        await this.#c.dial(bootstrapMultiaddr(addr), { signal })
      })
    )
    callerSignal?.throwIfAborted()
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failures.length === peers.length) {
      throw new BootstrapError(
        `could not reach any of ${peers.length} bootstrap peer(s) within ${timeout} ms: ${errorText(failures[0]?.reason)}`,
        peers,
        { cause: new AggregateError(failures.map((f) => f.reason)) }
      )
    }
    // a connected bootstrap peer enters the routing table once identify shows it serves our kad protocol
    try {
      while (this.#c.routingTableSize() === 0) {
        signal.throwIfAborted()
        await pause(50, { signal })
      }
    } catch (err) {
      callerSignal?.throwIfAborted()
      throw new BootstrapError(
        `connected to bootstrap peers but none serves ${this.#init.kadProtocol} within ${timeout} ms (server mode, same protocolPrefix and psk?)`,
        peers,
        { cause: err }
      )
    }
    // look up our own neighbourhood to fill the routing table
    try {
      await this.#c.selfLookup({ signal })
    } catch (err) {
      callerSignal?.throwIfAborted()
      logger.debug({ err: errorText(err) }, 'self lookup after bootstrap ended early')
    }
    logger.info({ routingTable: this.#c.routingTableSize() }, 'bootstrapped')
    this.#c.scheduler.background('announce peer', (s) => this.#c.onBootstrapped(s))
  }
}
