/**
 * Every reach of this package into @libp2p/kad-dht's and libp2p's internals, in one place: what
 * their public types do not expose but LibP2PDHT needs. Each accessor says what it reads, why, and
 * what it does when a future version no longer has it. The layouts are those of the versions
 * pinned in package.json (`@libp2p/kad-dht` ^16.4.5, `libp2p` ^3.3); a new version must be checked
 * here (`test/kad-internals.test.ts` runs them against a real in-process kad-dht).
 */
import type { AbortOptions, Libp2p, PeerId, StreamHandlerRecord } from '@libp2p/interface'
import type { KadDHT, QueryEvent, SingleKadDHT } from '@libp2p/kad-dht'
import { type Datastore, Key } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'

/** kad-dht's default `datastorePrefix` (its init option of the same name). */
export const KAD_DATASTORE_PREFIX = '/dht'

/**
 * The datastore prefix kad-dht was built with: `kad.datastorePrefix` of the extra kad-dht
 * options, else kad-dht's default.
 */
export function kadDatastorePrefix(kad: Record<string, unknown> | undefined): string {
  return typeof kad?.datastorePrefix === 'string' ? kad.datastorePrefix : KAD_DATASTORE_PREFIX
}

/**
 * Where kad-dht keeps the record of `key` in the datastore: `<prefix>/record/<base32(key bytes)>`,
 * a serialized `Libp2pRecord` (kad-dht's `bufferToRecordKey`). Records written there are served
 * to GET_VALUE queries like the ones kad-dht received itself.
 */
export function kadRecordKey(datastorePrefix: string, key: Uint8Array): Key {
  return new Key(`${datastorePrefix}/record/${uint8ArrayToString(key, 'base32')}`, false)
}

/** The datastore prefix under which kad-dht keeps every record (for counting them). */
export function kadRecordsPrefix(datastorePrefix: string): string {
  return `${datastorePrefix}/record`
}

/**
 * Whether a datastore `get` failed because the key holds nothing. interface-store's
 * `NotFoundError` is a plain Error whose only stable mark is its name (it is not a CHORUS error,
 * and copies of interface-store differ, so `instanceof` does not hold).
 */
export function isDatastoreNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'NotFoundError'
}

/**
 * The datastore of a libp2p node (`node.components.datastore`), for a node LibP2PDHT wraps
 * (`init.libp2p`) rather than builds: libp2p does not expose the one it was given.
 */
export function nodeDatastore(node: Libp2p): Datastore {
  const datastore = (node as unknown as { components?: { datastore?: Datastore } }).components?.datastore
  if (datastore == null) throw new Error('the libp2p node exposes no datastore (components.datastore)')
  return datastore
}

/**
 * The handler record registered for an inbound protocol (`node.components.registrar`), so it can be
 * wrapped (reputation guard, inbound-peer context) and restored. Undefined when the registrar is
 * not reachable or the protocol is not handled.
 */
export function protocolHandler(node: Libp2p, protocol: string): StreamHandlerRecord | undefined {
  const registrar = (
    node as unknown as { components?: { registrar?: { getHandler(p: string): StreamHandlerRecord } } }
  ).components?.registrar
  if (registrar == null) return undefined
  try {
    return registrar.getHandler(protocol)
  } catch {
    return undefined
  }
}

/**
 * Size of kad-dht's routing table. `routingTable` is on kad-dht's `SingleKadDHT` type but not on
 * the `KadDHT` service interface; 0 when absent.
 */
export function routingTableSize(kad: KadDHT): number {
  return (kad as SingleKadDHT).routingTable?.size ?? 0
}

/** What admission does to kad-dht's routing table (see `routingTableOf`). */
export interface RoutingTableAccess {
  /** Takes a peer out of the routing table (a no-op when it is not in it). */
  remove(peer: PeerId): Promise<void>
  /** Calls `listener` with every peer kad-dht adds; returns a function that stops it. */
  onAdded(listener: (peer: PeerId) => void): () => void
}

/**
 * kad-dht's routing table (`routingTable` of `SingleKadDHT`, not on the `KadDHT` service
 * interface): its `remove(peerId)` and its `peer:add` event, so admission can take refused peers
 * out and keep them out (kad-dht adds a peer when it connects or answers a query). When a version
 * no longer has them, both do nothing (refused peers then stay in the table until kad-dht drops
 * them as unreachable: the connection gater refuses them).
 */
export function routingTableOf(kad: KadDHT): RoutingTableAccess {
  const table = () =>
    (kad as SingleKadDHT).routingTable as unknown as
      | (EventTarget & { remove?(peer: PeerId): Promise<void> })
      | undefined
  return {
    async remove(peer) {
      const t = table()
      if (typeof t?.remove === 'function') await t.remove(peer)
    },
    onAdded(listener) {
      const t = table()
      if (t == null || typeof t.addEventListener !== 'function') return () => {}
      const onAdd = (evt: Event): void => {
        const peer = (evt as CustomEvent<PeerId>).detail
        if (peer != null) listener(peer)
      }
      t.addEventListener('peer:add', onAdd)
      return () => t.removeEventListener('peer:add', onAdd)
    }
  }
}

/**
 * Every validated value of every peer on the query path, as `VALUE` events (and the other query
 * events): kad-dht's internal `contentFetching.getMany`. The public `get` only yields the best
 * value, after sending corrections that can fail the whole get. Falls back to the public `get`
 * when a version no longer has `getMany`.
 */
export function queryValues(kad: KadDHT, key: Uint8Array, options: AbortOptions): AsyncIterable<QueryEvent> {
  const fetching = (kad as unknown as { contentFetching?: { getMany?: unknown } }).contentFetching
  if (fetching != null && typeof fetching.getMany === 'function') {
    return (fetching.getMany as (k: Uint8Array, o: AbortOptions) => AsyncIterable<QueryEvent>).call(
      fetching,
      key,
      options
    )
  }
  return kad.get(key, options)
}

/**
 * Whether a kad-dht query event reports a record a peer sent that failed validation. kad-dht
 * reports it as a `QUERY_ERROR` whose error message says "invalid record" (its validators' error
 * text); there is no code to test.
 */
export function isInvalidRecordEvent(event: {
  name: string
  error?: unknown
}): event is { name: 'QUERY_ERROR'; error: Error; from: { toString(): string } } {
  return (
    event.name === 'QUERY_ERROR' &&
    event.error instanceof Error &&
    /invalid record/i.test(event.error.message) &&
    'from' in event
  )
}

/** One GET_PROVIDERS request to one peer: the ids of the providers it lists for `cid`. */
export type ProvidersRequest = (peer: PeerId, cid: CID, options: AbortOptions) => Promise<string[]>

/**
 * A GET_PROVIDERS request to one peer over kad-dht's internal `network.sendRequest` (the
 * `network` of `SingleKadDHT`): kad-dht sends ADD_PROVIDER without waiting for an answer (the
 * protocol has none), so a provide asks each peer it sent the record to whether it now lists
 * this node. Rejects when the peer does not answer. Undefined when a version no longer has
 * `network.sendRequest`: a provide then counts the peers it delivered the record to.
 */
export function providersRequest(kad: KadDHT): ProvidersRequest | undefined {
  const network = (kad as unknown as { network?: { sendRequest?: unknown } }).network
  if (network == null || typeof network.sendRequest !== 'function') return undefined
  const send = network.sendRequest as (
    to: PeerId,
    msg: { type: string; key: Uint8Array },
    options: AbortOptions & { path?: unknown }
  ) => AsyncIterable<QueryEvent>
  return async (peer, cid, options) => {
    const path = { index: -1, queued: 0, running: 0, total: 0 }
    for await (const event of send.call(
      network,
      peer,
      { type: 'GET_PROVIDERS', key: cid.multihash.bytes },
      {
        ...options,
        path
      }
    )) {
      if (event.name === 'PEER_RESPONSE') return event.providers.map((p) => p.id.toString())
      if (event.name === 'QUERY_ERROR') throw event.error
    }
    throw new Error('the peer sent no GET_PROVIDERS response')
  }
}

/** Adds a provider record to this node's own provider store, sending nothing. */
export type LocalProviderAdd = (cid: CID, provider: PeerId, options: AbortOptions) => Promise<void>

/**
 * kad-dht's own provider store (`providers.addProvider` of `SingleKadDHT`): what its ADD_PROVIDER
 * handler writes and its GET_PROVIDERS handler reads, so a provider added here is served exactly
 * like an announced one (and expires like one). Used when a peer handed this node a record in
 * full over a CHORUS protocol: both hold it, and an ADD_PROVIDER round trip would only repeat
 * that. Undefined when a version no longer has it: such notes are then dropped and the normal
 * provide (or the sweep) announces the key.
 */
export function localProviderAdd(kad: KadDHT): LocalProviderAdd | undefined {
  const providers = (kad as unknown as { providers?: { addProvider?: unknown } }).providers
  if (providers == null || typeof providers.addProvider !== 'function') return undefined
  const add = providers.addProvider as (cid: CID, provider: PeerId, options?: AbortOptions) => Promise<void>
  return (cid, provider, options) => add.call(providers, cid, provider, options)
}
