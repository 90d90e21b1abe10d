import { anySignal, errorText, type Logger } from '@chorus/common'
import type { AbortOptions, PeerInfo, PeerMessaging, ProtocolHandler } from '../contract.js'
import { PeerUnreachableError } from '../errors.js'
import { inboundPeer } from '../reputation/context.js'
import { attachReputation, guardProtocolHandler } from '../reputation/libp2p.js'
import { createRateLimiter, type RateLimiter, type RateLimiterInit } from '../reputation/rate-limiter.js'
import type { PeerReputation } from '../reputation/reputation.js'
import type { RunState } from './lifetime.js'
import { handleProtocol, sendRequest, toPeerId } from './messaging.js'
import type { ChorusLibp2p } from './node.js'
import { markInbound } from './stale.js'

export interface PeerMessagingComponents {
  /** The libp2p node the protocols run on. */
  node: ChorusLibp2p
  /** The reputation system guarding inbound protocols; undefined when off. */
  reputation?: PeerReputation | undefined
  /** Whether kad-dht serves its protocol (server mode): only then is it guarded. */
  kadServes(): boolean
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
}

/**
 * Request/response protocols between peers (`PeerMessaging`), and the guard of every inbound
 * protocol: with the reputation system, banned peers and floods are refused (kad-dht's protocol
 * included) and validators can name the sender of a record; without it, the kad protocol's
 * handler still runs in the inbound-peer context so stale records from peers are refused.
 */
export class PeerMessagingService implements Omit<PeerMessaging, 'peerId'> {
  readonly #c: PeerMessagingComponents
  readonly #init: PeerMessagingInit
  readonly #limiters = new Map<string, RateLimiter>()
  #detach: (() => Promise<void>) | undefined

  constructor(components: PeerMessagingComponents, init: PeerMessagingInit) {
    this.#c = components
    this.#init = init
  }

  /** Guards the kad protocol (call once the node runs: kad-dht registers it at start). */
  async start(): Promise<void> {
    const { node, reputation, logger } = this.#c
    const kadServes = this.#c.kadServes()
    if (reputation != null) {
      // kad-dht serves its protocol in server mode only
      this.#detach = await attachReputation(node, {
        reputation,
        protocols: kadServes ? [this.#init.kadProtocol] : [],
        limiter: this.#limiterFor(this.#init.kadProtocol) ?? false,
        logger
      })
    } else if (kadServes) {
      // the stale-record check needs to know which records came from a peer
      this.#detach = await markInbound(node, [this.#init.kadProtocol])
    }
  }

  /** Restores the kad protocol's handler and stops hanging up on banned peers. */
  async stop(): Promise<void> {
    await this.#detach?.().catch(() => {})
    this.#detach = undefined
  }

  async handle(protocol: string, handler: ProtocolHandler, options: { maxRequestBytes?: number } = {}) {
    this.#c.run.assertStarted('handle')
    const reputation = this.#c.reputation
    const limiter = this.#limiterFor(protocol)
    const guarded: ProtocolHandler =
      reputation != null
        ? guardProtocolHandler(handler, { reputation, protocol, ...(limiter != null ? { limiter } : {}) })
        : (request, from) => inboundPeer.run(from.id, () => handler(request, from))
    await this.serve(protocol, guarded, options)
  }

  /** Serves a protocol as given (no reputation guard, no started check): the node's own protocols. */
  async serve(protocol: string, handler: ProtocolHandler, options: { maxRequestBytes?: number } = {}) {
    await handleProtocol(this.#c.node, protocol, handler, {
      ...options,
      timeout: this.#init.requestTimeout,
      onError: (err) => this.#c.logger.debug({ protocol, err: errorText(err) }, 'inbound request failed')
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

  /** Sends one request (no started check): the node's own protocols. */
  send(
    peer: string | PeerInfo,
    protocol: string,
    body: Uint8Array,
    options: AbortOptions & { maxResponseBytes?: number } = {}
  ): Promise<Uint8Array> {
    return sendRequest(this.#c.node, peer, protocol, body, { ...options, timeout: this.#init.requestTimeout })
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

  getConnectedPeers(): string[] {
    if (!this.#c.run.started) return []
    return [...new Set(this.#c.node.getPeers().map((p) => p.toString()))]
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
