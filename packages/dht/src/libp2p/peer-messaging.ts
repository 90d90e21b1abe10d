import { anySignal, createRefusalLog, errorText, type Logger, type RefusalLog } from '@chorus/common'
import type { PeerId } from '@libp2p/interface'
import type { AbortOptions, PeerInfo, PeerMessaging, ProtocolHandler } from '../contract.js'
import { PeerUnreachableError } from '../errors.js'
import { inboundPeer } from '../reputation/context.js'
import { attachReputation, guardProtocolHandler } from '../reputation/libp2p.js'
import { createRateLimiter, type RateLimiter, type RateLimiterInit } from '../reputation/rate-limiter.js'
import type { PeerReputation } from '../reputation/reputation.js'
import { guardAdmittedStreams } from './admission-guard.js'
import type { RunState } from './lifetime.js'
import { handleProtocol, sendRequest, toPeerId } from './messaging.js'
import type { ChorusLibp2p } from './node.js'
import { markInbound } from './stale.js'

/** The class name of an error: the refusal code its log lines are counted under. */
const errorName = (err: unknown): string => (err instanceof Error ? err.name : 'Error')

export interface PeerMessagingComponents {
  /** The libp2p node the protocols run on. */
  node: ChorusLibp2p
  /** The reputation system guarding inbound protocols; undefined when off. */
  reputation?: PeerReputation | undefined
  /** Whether kad-dht serves its protocol (server mode): only then is it guarded. */
  kadServes(): boolean
  /**
   * Admission (`init.admission`): inbound streams of every protocol wait for their peer's
   * admission, requests wait for the admission of the peer they go to, and only admitted peers
   * count as connected. Undefined without admission.
   */
  admission?: PeerAdmissionState | undefined
  run: RunState
  logger: Logger
}

export interface PeerMessagingInit {
  /** The kad-dht protocol (`${protocolPrefix}/kad/1.0.0`), guarded like our own protocols. */
  kadProtocol: string
  /** Time limit of one request, ping or inbound request, in ms. */
  requestTimeout: number
  /** Per-peer token bucket per protocol; `false` turns it off. */
  rateLimit: RateLimiterInit | false
  /** Per-peer byte budget per protocol (request bytes; kad: offered record bytes); `false` turns it off. */
  byteRateLimit: RateLimiterInit | false
}

/** What peer messaging needs of admission (see admission.ts). */
export interface PeerAdmissionState {
  /** Resolves once the peer is admitted; rejects with `PeerNotAdmittedError`. */
  waitAdmitted(peer: PeerId, options?: AbortOptions): Promise<unknown>
  /** Connects to the peer when needed and waits for its admission. */
  reach(peer: PeerId, options?: AbortOptions): Promise<void>
  isAdmitted(peer: string): boolean
}

/**
 * Request/response protocols between peers (`PeerMessaging`), and the guard of every inbound
 * protocol: with the reputation system, banned peers and floods are refused (kad-dht's protocol
 * included) and validators can name the sender of a record; without it, the kad protocol's
 * handler still runs in the inbound-peer context so stale records from peers are refused. With
 * admission, no protocol serves a peer before it is admitted. A request or response that breaks
 * the framing costs its peer an `invalid-message` penalty.
 */
export class PeerMessagingService implements Omit<PeerMessaging, 'peerId'> {
  readonly #c: PeerMessagingComponents
  readonly #init: PeerMessagingInit
  readonly #limiters = new Map<string, RateLimiter>()
  readonly #byteLimiters = new Map<string, RateLimiter>()
  /** Failed inbound requests and malformed messages, logged at a bounded rate and size. */
  readonly #refusals: RefusalLog
  #detach: Array<() => Promise<void>> = []
  /**
   * The connected peers' ids, kept between connects and disconnects (undefined: read them again).
   * Every push and placement decision asks; rebuilding the list from the connections each time
   * was a measurable share of a busy writer's CPU.
   */
  #connected: string[] | undefined
  #watching = false

  constructor(components: PeerMessagingComponents, init: PeerMessagingInit) {
    this.#c = components
    this.#init = init
    this.#refusals = createRefusalLog(components.logger, { level: 'debug' })
  }

  /** Guards the kad protocol (call once the node runs: kad-dht registers it at start). */
  async start(): Promise<void> {
    const { node, reputation, admission, logger } = this.#c
    const forget = (): void => {
      this.#connected = undefined
    }
    node.addEventListener('peer:connect', forget)
    node.addEventListener('peer:disconnect', forget)
    this.#watching = true
    this.#detach.push(async () => {
      this.#watching = false
      node.removeEventListener('peer:connect', forget)
      node.removeEventListener('peer:disconnect', forget)
      forget()
    })
    const kadServes = this.#c.kadServes()
    if (reputation != null) {
      // kad-dht serves its protocol in server mode only
      this.#detach.push(
        await attachReputation(node, {
          reputation,
          protocols: kadServes ? [this.#init.kadProtocol] : [],
          limiter: this.#limiterFor(this.#init.kadProtocol) ?? false,
          byteLimiter: this.#byteLimiterFor(this.#init.kadProtocol) ?? false,
          logger
        })
      )
    } else if (kadServes) {
      // the stale-record check needs to know which records came from a peer
      this.#detach.push(await markInbound(node, [this.#init.kadProtocol]))
    }
    if (admission != null && kadServes) {
      // outermost: nothing of a peer that is not admitted reaches the guards above
      const wait = (peer: PeerId) => admission.waitAdmitted(peer)
      this.#detach.push(await guardAdmittedStreams(node, [this.#init.kadProtocol], wait, logger))
    }
  }

  /** Restores the kad protocol's handler and stops hanging up on banned peers. */
  async stop(): Promise<void> {
    this.#refusals.stop()
    for (const detach of this.#detach.splice(0).reverse()) await detach().catch(() => {})
  }

  async handle(protocol: string, handler: ProtocolHandler, options: { maxRequestBytes?: number } = {}) {
    this.#c.run.assertStarted('handle')
    const reputation = this.#c.reputation
    const limiter = this.#limiterFor(protocol)
    const byteLimiter = this.#byteLimiterFor(protocol)
    const guarded: ProtocolHandler =
      reputation != null
        ? guardProtocolHandler(handler, {
            reputation,
            protocol,
            ...(limiter != null ? { limiter } : {}),
            ...(byteLimiter != null ? { byteLimiter } : {})
          })
        : (request, from) => inboundPeer.run(from.id, () => handler(request, from))
    await this.serve(protocol, guarded, options)
  }

  /** Serves a protocol as given (no reputation guard, no started check): the node's own protocols. */
  async serve(protocol: string, handler: ProtocolHandler, options: { maxRequestBytes?: number } = {}) {
    const admission = this.#c.admission
    await handleProtocol(this.#c.node, protocol, handler, {
      ...options,
      timeout: this.#init.requestTimeout,
      onError: (err) =>
        this.#refusals.refused(errorName(err), { protocol, err: errorText(err) }, 'inbound request failed'),
      onInvalidMessage: (peer) => this.#invalidMessage(peer),
      ...(admission != null ? { admit: (connection) => admission.waitAdmitted(connection.remotePeer) } : {})
    })
  }

  async unhandle(protocol: string): Promise<void> {
    this.#c.run.assertStarted('unhandle')
    await this.#c.node.unhandle(protocol)
  }

  async request(
    peer: string | PeerInfo,
    protocol: string,
    body: Uint8Array,
    options: AbortOptions & { maxResponseBytes?: number } = {}
  ): Promise<Uint8Array> {
    this.#c.run.assertStarted('request')
    return this.send(peer, protocol, body, options)
  }

  /**
   * Sends one request (no started check): the node's own protocols. With admission it first waits
   * for the peer's admission (`PeerNotAdmittedError`).
   */
  async send(
    peer: string | PeerInfo,
    protocol: string,
    body: Uint8Array,
    options: AbortOptions & { maxResponseBytes?: number } = {}
  ): Promise<Uint8Array> {
    const { node, admission } = this.#c
    if (admission != null) await admission.reach(await toPeerId(node, peer), options)
    return sendRequest(node, peer, protocol, body, {
      ...options,
      timeout: this.#init.requestTimeout,
      onInvalidMessage: (id) => this.#invalidMessage(id)
    })
  }

  async ping(peer: string | PeerInfo, options: AbortOptions = {}): Promise<number> {
    const { run, node } = this.#c
    run.assertStarted('ping')
    const peerId = await toPeerId(node, peer)
    const signal = anySignal(options.signal, AbortSignal.timeout(this.#init.requestTimeout), run.signal)
    try {
      return await node.services.ping.ping(peerId, { signal })
    } catch (err) {
      options.signal?.throwIfAborted()
      throw new PeerUnreachableError(peerId.toString(), { cause: err })
    }
  }

  /** Peers with an open connection; with admission, only those admitted. */
  getConnectedPeers(): string[] {
    if (!this.#c.run.started) return []
    const peers = this.#connected ?? [...new Set(this.#c.node.getPeers().map((p) => p.toString()))]
    if (this.#watching) this.#connected = peers
    const admission = this.#c.admission
    // a copy either way: callers may sort it
    return admission != null ? peers.filter((p) => admission.isAdmitted(p)) : [...peers]
  }

  /** A peer broke the framing of a request or response. */
  #invalidMessage(peer: string): void {
    this.#refusals.refused('MALFORMED_MESSAGE', { peer }, 'malformed message from peer')
    this.#c.reputation?.penalise(peer, 'invalid-message')
  }

  /** The per-peer byte budget of a protocol (one bucket per peer and protocol); undefined when off. */
  #byteLimiterFor(protocol: string): RateLimiter | undefined {
    if (this.#init.byteRateLimit === false) return undefined
    let limiter = this.#byteLimiters.get(protocol)
    if (limiter == null) {
      limiter = createRateLimiter(this.#init.byteRateLimit)
      this.#byteLimiters.set(protocol, limiter)
    }
    return limiter
  }

  /** The per-peer rate limiter of a protocol (one bucket per peer and protocol); undefined when off. */
  #limiterFor(protocol: string): RateLimiter | undefined {
    if (this.#init.rateLimit === false) return undefined
    let limiter = this.#limiters.get(protocol)
    if (limiter == null) {
      limiter = createRateLimiter(this.#init.rateLimit)
      this.#limiters.set(protocol, limiter)
    }
    return limiter
  }
}
