/**
 * Joining the network: a random stagger (against a thundering herd), bootstrap, then the
 * announcement of the agent's role and capabilities, retried until one reaches a peer and
 * refreshed periodically. A reload that adds bootstrap peers waits its own stagger, dials them and
 * announces again: a whole team handed its peers at once (one assignment push, then SIGHUP to
 * every agent) would otherwise dial the same bootstrap peers in the same instant.
 */
import { errorText, type Logger, pause } from '@chorus/common'
import { type LibP2PDHT, PEER_ANNOUNCE_KEY } from '@chorus/dht'
import type { BootstrapChoice } from '../config/assignment.js'

/** The agent version announced to peers. */
export const AGENT_VERSION = 'chorus-node/0.1.0'

export interface NetworkJoinComponents {
  dht: Pick<
    LibP2PDHT,
    | 'peerId'
    | 'bootstrap'
    | 'getDHTSize'
    | 'registerPeer'
    | 'getConnectedPeers'
    | 'provide'
    | 'announceRole'
    | 'announceCapability'
  >
  /** Background work and shutdown: see `AgentLifecycle`. */
  lifecycle: {
    readonly signal: AbortSignal
    readonly stopping: boolean
    every(ms: number, fn: () => Promise<void>): void
    spawn(work: Promise<unknown>): void
  }
  logger: Logger
}

export interface NetworkJoinInit {
  role: string
  capabilities: string[]
  /** Largest random delay before bootstrapping, in ms. */
  joinStagger: number
  /** Pace of the announcement retries until one reached a peer (at most 10 s), in ms. */
  discoveryInterval: number
  /** Pace of the re-announcements (at most hourly), in ms. */
  reprovideInterval: number
  /** The bootstrap peers and where they came from. */
  bootstrap: BootstrapChoice
  /** Random number in [0, 1) for the stagger. @default Math.random */
  random?: () => number
}

/** One join: how long it waited, and when it dialled. */
export interface JoinAttempt {
  /** The random stagger waited, in ms. */
  delayMs: number
  /** Epoch ms when the bootstrap peers were dialled, after the stagger. */
  at: number
  /** How many bootstrap peers were dialled. */
  peers: number
}

export class NetworkJoin {
  #joined = false
  #lastJoin: JoinAttempt | undefined
  #announced = false
  #peers: string[]
  #source: string
  readonly #c: NetworkJoinComponents
  readonly #init: NetworkJoinInit

  constructor(components: NetworkJoinComponents, init: NetworkJoinInit) {
    this.#c = components
    this.#init = init
    this.#peers = init.bootstrap.peers
    this.#source = init.bootstrap.source
  }

  /** A bootstrap succeeded. */
  get joined(): boolean {
    return this.#joined
  }
  /** An announcement reached a peer. */
  get announced(): boolean {
    return this.#announced
  }
  get bootstrapPeers(): string[] {
    return this.#peers
  }
  get bootstrapSource(): string {
    return this.#source
  }
  /** The last join's stagger and time; undefined before any. */
  get lastJoin(): JoinAttempt | undefined {
    return this.#lastJoin
  }

  /** Join stagger, bootstrap, then announce role and capabilities; re-announce periodically. */
  async run(): Promise<void> {
    const { signal } = this.#c.lifecycle
    await this.#staggeredBootstrap(this.#peers)
    if (signal.aborted) return
    await this.announce()
    // until a first announcement reached a peer (the first agent of a network has none at start),
    // retry at the discovery pace; then refresh hourly (or at the reprovide interval when shorter)
    this.#c.lifecycle.every(Math.min(this.#init.discoveryInterval, 10_000), async () => {
      if (!this.#announced) await this.announce()
    })
    this.#c.lifecycle.every(Math.min(this.#init.reprovideInterval, 60 * 60_000), () => this.announce())
  }

  /** Waits a random delay in [0, joinStagger], then dials `peers` (nothing when there are none). */
  async #staggeredBootstrap(peers: string[]): Promise<void> {
    const { signal } = this.#c.lifecycle
    if (peers.length === 0) return
    const random = this.#init.random ?? Math.random
    const delay = Math.floor(random() * (this.#init.joinStagger + 1))
    if (delay > 0) {
      this.#c.logger.info({ delayMs: delay }, 'join stagger')
      await pause(delay, { signal }) // resolves early on shutdown
    }
    if (signal.aborted) return
    this.#lastJoin = { delayMs: delay, at: Date.now(), peers: peers.length }
    await this.bootstrap(peers)
  }

  async bootstrap(peers: string[]): Promise<void> {
    const { dht, lifecycle, logger } = this.#c
    if (peers.length === 0) return
    try {
      await dht.bootstrap({ peers, signal: lifecycle.signal })
      this.#joined = true
      logger.info(
        { peers: peers.length, source: this.#source, routingTable: dht.getDHTSize() },
        'joined the network'
      )
    } catch (err) {
      if (lifecycle.signal.aborted) return
      logger.warn({ err: errorText(err) }, 'bootstrap failed; auto-bootstrap keeps retrying')
    }
  }

  async announce(): Promise<void> {
    const { dht, lifecycle, logger } = this.#c
    if (lifecycle.stopping) return
    const { signal } = lifecycle
    const { role, capabilities } = this.#init
    dht.registerPeer(dht.peerId, AGENT_VERSION, role, capabilities)
    if (dht.getConnectedPeers().length === 0) return
    const results = await Promise.allSettled([
      // the discovery key too: a first node never bootstraps, so the DHT does not announce it
      dht.provide(PEER_ANNOUNCE_KEY, { signal }),
      dht.announceRole(role, { signal }),
      ...capabilities.map((cap) => dht.announceCapability(cap, { signal }))
    ])
    const failed = results.filter((r) => r.status === 'rejected').length
    if (failed > 0) logger.debug({ failed }, 'some announcements failed; retried later')
    else {
      this.#announced = true
      logger.info({ role, capabilities }, 'announced role and capabilities')
    }
  }

  /** New bootstrap peers (SIGHUP): the added ones are dialled, then the agent announces again. */
  reload(choice: BootstrapChoice, running: boolean): void {
    const added = choice.peers.filter((p) => !this.#peers.includes(p))
    this.#peers = choice.peers
    this.#source = choice.source
    this.#c.logger.info(
      { bootstrapPeers: choice.peers.length, source: choice.source, added: added.length },
      'bootstrap peers reloaded'
    )
    if (added.length > 0 && running)
      this.#c.lifecycle.spawn(this.#staggeredBootstrap(added).then(() => this.announce()))
  }
}
