import { anySignal, errorText, type Logger, pause } from '@chorus/common'
import type { PeerId } from '@libp2p/interface'
import type { QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import type { CID } from 'multiformats/cid'
import type {
  AbortOptions,
  ClosestPeersOptions,
  FindProvidersOptions,
  PeerInfo,
  ProvideOptions,
  ProvideResult
} from '../contract.js'
import { NoPeersAcknowledgedError } from '../errors.js'
import { remembered } from '../remembered.js'
import { keyBytes, keyToCid } from './keys.js'
import type { RunState } from './lifetime.js'

/** The part of kad-dht content routing uses (its public API). */
export interface RoutingQueries {
  provide(cid: CID, options: AbortOptions): AsyncIterable<QueryEvent>
  findProviders(cid: CID, options: AbortOptions): AsyncIterable<QueryEvent>
  getClosestPeers(key: Uint8Array, options: AbortOptions): AsyncIterable<QueryEvent>
  /**
   * Asks one peer (GET_PROVIDERS) which providers it lists for `cid`; how a provide confirms that
   * a peer took its record. Absent: a provide counts the peers the record was delivered to.
   */
  providersAt?(peer: PeerId, cid: CID, options: AbortOptions): Promise<string[]>
  /** Adds a provider record to this node's own provider store (no message). Absent: notes are dropped. */
  addLocalProvider?(cid: CID, provider: PeerId, options: AbortOptions): Promise<void>
}

/** Pauses before asking a peer again whether it lists this node (its ADD_PROVIDER handler may still run). */
const CONFIRM_PAUSES_MS = [0, 100, 400]

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

/** Most parsed peer ids `noteProviders` remembers. */
const MAX_REMEMBERED_PEER_IDS = 1024

/**
 * provide, findProviders, getClosestPeers: provider records under `keyToCid(key)` and the
 * closest-peers query, each bounded by `queryTimeout`. A find or closest-peers query that ends
 * early (timeout, no peers) answers with what it found; a provide reports the peers that
 * confirmed it, and rejects when none did.
 */
export class ContentRouting {
  readonly #c: ContentRoutingComponents
  readonly #queryTimeout: number
  readonly #provided = new Set<string>()
  /** The peer id a string names, parsed once while remembered (the same few peers note every key). */
  readonly #peerId = remembered(MAX_REMEMBERED_PEER_IDS, (id): PeerId | undefined => {
    try {
      return peerIdFromString(id)
    } catch {
      return undefined
    }
  })

  constructor(components: ContentRoutingComponents, init: ContentRoutingInit) {
    this.#c = components
    this.#queryTimeout = init.queryTimeout
  }

  /**
   * kad-dht's provide (the record goes into this node's own provider store first, then to the
   * closest peers), then each peer it was delivered to is asked back whether it lists this node:
   * ADD_PROVIDER has no answer in the protocol, so a delivery alone proves nothing (the peer may
   * have refused the stream or dropped the record). Rejects with `NoPeersAcknowledgedError`
   * (`operation: 'provide'`) when no peer confirms, a node alone in its network included.
   */
  async provide(key: string, options: ProvideOptions = {}): Promise<ProvideResult> {
    const { run, kad, logger } = this.#c
    run.assertStarted('provide')
    const cid = await keyToCid(key)
    const timeLimit = AbortSignal.timeout(this.#queryTimeout)
    const signal = anySignal(options.signal, timeLimit, run.signal)
    this.#provided.add(key)
    const delivered = new Map<string, PeerId>()
    let failure: unknown
    try {
      for await (const event of kad.provide(cid, { signal })) {
        // kad-dht stores the provider record locally first, then sends it to the closest peers
        if (event.name !== 'PEER_RESPONSE' || event.messageName !== 'ADD_PROVIDER') continue
        const id = event.from.toString()
        if (this.#c.refused?.(id) !== true) delivered.set(id, event.from)
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      run.assertStarted('provide')
      failure = err
      logger.debug({ key, err: errorText(err) }, 'provide ended early')
    }
    const peers = await this.#confirm(cid, [...delivered.values()], options.signal)
    if (peers.length === 0) {
      const cause = failure ?? (timeLimit.aborted ? timeLimit.reason : undefined)
      throw new NoPeersAcknowledgedError(key, { operation: 'provide', ...(cause != null ? { cause } : {}) })
    }
    return { key, peers }
  }

  /**
   * Records locally that `peers` provide `key` (see `DHT.noteProviders`): peers this node refused
   * and ids that do not decode are skipped; nothing is sent.
   */
  async noteProviders(key: string, peers: readonly string[], options: AbortOptions = {}): Promise<void> {
    const add = this.#c.kad.addLocalProvider
    if (add == null || peers.length === 0) return
    this.#c.run.assertStarted('noteProviders')
    const cid = await keyToCid(key)
    const adds: Array<Promise<void>> = []
    for (const id of new Set(peers)) {
      if (this.#c.refused?.(id) === true) continue
      const peer = this.#peerId(id)
      if (peer === undefined) continue
      // together: the datastore commits the writes of one turn at once
      adds.push(add.call(this.#c.kad, cid, peer, options))
    }
    await Promise.all(adds)
  }

  /** The delivered peers that list this node as a provider of `cid` when asked (a few tries each). */
  async #confirm(cid: CID, delivered: PeerId[], callerSignal: AbortSignal | undefined): Promise<string[]> {
    const { run, kad, logger } = this.#c
    const ask = kad.providersAt
    if (ask == null) return delivered.map((p) => p.toString())
    if (delivered.length === 0) return []
    const self = this.#c.self().id
    const signal = anySignal(callerSignal, AbortSignal.timeout(this.#queryTimeout), run.signal)
    const confirmed = await Promise.all(
      delivered.map(async (peer) => {
        for (const ms of CONFIRM_PAUSES_MS) {
          if (ms > 0) await pause(ms, { signal })
          if (signal.aborted) return false
          try {
            if ((await ask.call(kad, peer, cid, { signal })).includes(self)) return true
          } catch (err) {
            logger.debug({ peer: peer.toString(), err: errorText(err) }, 'provider confirmation failed')
            return false
          }
        }
        return false
      })
    )
    callerSignal?.throwIfAborted()
    run.assertStarted('provide')
    return delivered.filter((_, i) => confirmed[i] === true).map((p) => p.toString())
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
