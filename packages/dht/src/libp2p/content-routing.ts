import { anySignal, errorText, type Logger } from '@chorus/common'
import type { QueryEvent } from '@libp2p/kad-dht'
import type { CID } from 'multiformats/cid'
import type {
  AbortOptions,
  ClosestPeersOptions,
  FindProvidersOptions,
  PeerInfo,
  ProvideOptions
} from '../contract.js'
import { keyBytes, keyToCid } from './keys.js'
import type { RunState } from './lifetime.js'

/** The part of kad-dht content routing uses (its public API). */
export interface RoutingQueries {
  provide(cid: CID, options: AbortOptions): AsyncIterable<QueryEvent>
  findProviders(cid: CID, options: AbortOptions): AsyncIterable<QueryEvent>
  getClosestPeers(key: Uint8Array, options: AbortOptions): AsyncIterable<QueryEvent>
}

export interface ContentRoutingComponents {
  kad: RoutingQueries
  /** This node's id and addresses (it lists itself among the providers of what it provides). */
  self(): PeerInfo
  /** Peers left out of every answer (admission: peers this node refused). Default: none. */
  refused?(peer: string): boolean
  run: RunState
  logger: Logger
}

export interface ContentRoutingInit {
  /** Time limit of one provide, findProviders or closest-peers query, in ms. */
  queryTimeout: number
}

/**
 * provide, findProviders, getClosestPeers: provider records under `keyToCid(key)` and the
 * closest-peers query, each bounded by `queryTimeout`. A query that ends early (timeout, no peers)
 * answers with what it found.
 */
export class ContentRouting {
  readonly #c: ContentRoutingComponents
  readonly #queryTimeout: number
  readonly #provided = new Set<string>()

  constructor(components: ContentRoutingComponents, init: ContentRoutingInit) {
    this.#c = components
    this.#queryTimeout = init.queryTimeout
  }

  async provide(key: string, options: ProvideOptions = {}): Promise<void> {
    const { run, kad, logger } = this.#c
    run.assertStarted('provide')
    const cid = await keyToCid(key)
    const signal = anySignal(options.signal, AbortSignal.timeout(this.#queryTimeout), run.signal)
    this.#provided.add(key)
    try {
      for await (const _ of kad.provide(cid, { signal })) {
        // drain: kad-dht stores the provider record locally first, then on the closest peers
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      run.assertStarted('provide')
      logger.debug({ key, err: errorText(err) }, 'provide ended early')
    }
  }

  async findProviders(key: string, options: FindProvidersOptions = {}): Promise<PeerInfo[]> {
    const { run, kad, logger } = this.#c
    run.assertStarted('findProviders')
    const cid = await keyToCid(key)
    const limit = options.limit ?? 20
    const found = new Map<string, PeerInfo>()
    if (this.#provided.has(key)) {
      const self = this.#c.self()
      found.set(self.id, self)
    }
    if (found.size >= limit) return [...found.values()].slice(0, limit)
    const controller = new AbortController()
    const signal = anySignal(
      options.signal,
      controller.signal,
      AbortSignal.timeout(this.#queryTimeout),
      run.signal
    )
    try {
      for await (const event of kad.findProviders(cid, { signal })) {
        if (event.name !== 'PROVIDER') continue
        for (const p of event.providers) {
          const id = p.id.toString()
          if (this.#c.refused?.(id) === true) continue
          const existing = found.get(id)
          const multiaddrs = [...new Set(p.multiaddrs.map((m) => m.toString()))]
          if (existing == null) found.set(id, { id, multiaddrs })
          else if (existing.multiaddrs.length === 0) existing.multiaddrs = multiaddrs
        }
        if (found.size >= limit) {
          controller.abort()
          break
        }
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      run.assertStarted('findProviders')
      logger.debug({ key, err: errorText(err) }, 'findProviders ended early')
    }
    return [...found.values()].slice(0, limit)
  }

  /** The network's answer to a closest-peers query for the key (`FINAL_PEER` events). */
  async getClosestPeers(key: string, options: ClosestPeersOptions = {}): Promise<PeerInfo[]> {
    const { run, kad, logger } = this.#c
    run.assertStarted('getClosestPeers')
    const limit = options.limit ?? 20
    const signal = anySignal(options.signal, AbortSignal.timeout(this.#queryTimeout), run.signal)
    const closestPeers = new Map<string, PeerInfo>()
    try {
      for await (const event of kad.getClosestPeers(keyBytes(key), { signal })) {
        if (event.name !== 'FINAL_PEER') continue
        const id = event.peer.id.toString()
        if (this.#c.refused?.(id) === true) continue
        closestPeers.set(id, { id, multiaddrs: event.peer.multiaddrs.map((m) => m.toString()) })
        if (closestPeers.size >= limit) break
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      run.assertStarted('getClosestPeers')
      logger.debug({ key, err: errorText(err) }, 'closest-peers query ended early')
    }
    return [...closestPeers.values()]
  }
}
