/**
 * A read cache in front of the node's datastore, bounded in bytes. libp2p's peer store reads a
 * peer's record before every merge (each identify, each kad-dht answer naming peers), and the
 * record store reads a record before each write and on each validation: profiled under a
 * sustained store load these reads were about a sixth of an agent's CPU when the datastore was
 * LevelDB. Writes go through to the datastore before they resolve (and then into the cache), so
 * it stays the source of truth; the least recently used values leave once the cache is over its
 * byte budget. Misses are not cached. Queries go to the datastore, which every write has already
 * reached.
 *
 * Peer records (`/peers/...`) are the exception: libp2p's peer store rewrites a peer's record on
 * every stream opened to or from it (to note the protocol and the time), which was a datastore write
 * per message. They are written behind: kept here and written to the datastore in one batch at most
 * `PEER_FLUSH_MS` later (at once past `MAX_PENDING_PEERS` records, before a query, and on close),
 * so a crash loses at most that much address book, which identify and the DHT refill.
 */
import { copyBytes } from '@chorus/common'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'
import { isDatastoreNotFound } from './kad-internals.js'
import type { KeyCounter } from './sqlite-datastore.js'

/**
 * The default byte budget of the cache (values plus keys). The reads it saves come close after
 * the writes that fill it (a record read back as it is validated, stored and indexed; a peer's
 * record on each stream), so a small budget keeps its hits; a larger one only made a node that
 * holds many records larger.
 */
export const DEFAULT_DATASTORE_CACHE_BYTES = 4 * 1_048_576
/** Longest a peer record waits before it is written to the datastore. */
const PEER_FLUSH_MS = 5_000
/** Peer records waiting at most: past it they are written at once. */
const MAX_PENDING_PEERS = 1_024
const PEER_PREFIX = '/peers/'

/**
 * A datastore that can answer a miss without throwing (see {@link getIfPresent}): kad-dht's
 * datastores throw `NotFoundError` on a miss, whose stack trace costs more than the read itself,
 * and a store of ours misses several times (the held record, the stale check).
 */
export interface ReadsWithoutThrowing {
  getIfPresent(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined>
}

type Inner = Datastore & { open?(): Promise<void>; close?(): Promise<void> } & Partial<ReadsWithoutThrowing> &
  Partial<KeyCounter>

/** `store.get(key)`, undefined on a miss: without an exception where the store can do that. */
export async function getIfPresent(
  store: Datastore & Partial<ReadsWithoutThrowing>,
  key: Key,
  options?: AbortOptions
): Promise<Uint8Array | undefined> {
  if (store.getIfPresent !== undefined) return store.getIfPresent(key, options)
  try {
    return await store.get(key, options)
  } catch (err) {
    if (isDatastoreNotFound(err)) return undefined
    throw err
  }
}

class CachedDatastore {
  readonly #inner: Inner
  readonly #maxBytes: number
  /** Key string to value, least recently used first (a Map keeps insertion order). */
  readonly #values = new Map<string, Uint8Array>()
  #bytes = 0
  /** Peer records not written to the datastore yet, by key string. */
  readonly #pending = new Map<string, Pair>()
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(inner: Inner, maxBytes: number) {
    this.#inner = inner
    this.#maxBytes = Math.max(0, maxBytes)
  }

  /** Bytes held now (values plus keys). */
  get cachedBytes(): number {
    return this.#bytes
  }

  async open(): Promise<void> {
    await this.#inner.open?.()
  }

  async close(): Promise<void> {
    await this.#flush()
    this.#clear()
    await this.#inner.close?.()
  }

  async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const id = key.toString()
    if (id.startsWith(PEER_PREFIX)) {
      this.#pending.set(id, { key, value: copyBytes(value) })
      this.#remember(id, value)
      this.#scheduleFlush()
      return key
    }
    const k = await this.#inner.put(key, value, options)
    this.#remember(key.toString(), value)
    return k
  }

  async get(key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const id = key.toString()
    const held = this.#held(id)
    if (held !== undefined) return held
    const value = await this.#inner.get(key, options)
    this.#remember(id, value)
    return value
  }

  async getIfPresent(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined> {
    const id = key.toString()
    const held = this.#held(id)
    if (held !== undefined) return held
    const value = await getIfPresent(this.#inner, key, options)
    if (value !== undefined) this.#remember(id, value)
    return value
  }

  /** A copy of what is waiting to be written or cached under `id` (marked recently used), if anything. */
  #held(id: string): Uint8Array | undefined {
    const pending = this.#pending.get(id)
    if (pending !== undefined) return copyBytes(pending.value)
    const hit = this.#values.get(id)
    if (hit === undefined) return undefined
    this.#values.delete(id)
    this.#values.set(id, hit)
    // a copy: a caller that changes what it got must not change the cache
    return copyBytes(hit)
  }

  async has(key: Key, options?: AbortOptions): Promise<boolean> {
    const id = key.toString()
    return this.#pending.has(id) || this.#values.has(id) || (await this.#inner.has(key, options))
  }

  async delete(key: Key, options?: AbortOptions): Promise<void> {
    this.#pending.delete(key.toString())
    await this.#inner.delete(key, options)
    this.#forget(key.toString())
  }

  async *putMany(source: Iterable<Pair> | AsyncIterable<Pair>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const { key, value } of source) yield await this.put(key, value, options)
  }

  async *getMany(source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const key of source) yield { key, value: await this.get(key, options) }
  }

  async *deleteMany(source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const key of source) {
      await this.delete(key, options)
      yield key
    }
  }

  batch(): Batch {
    const inner = this.#inner.batch()
    // each key's last operation wins, as in the datastore
    const final = new Map<string, Uint8Array | undefined>()
    return {
      put: (key, value) => {
        inner.put(key, value)
        final.delete(key.toString())
        final.set(key.toString(), value)
      },
      delete: (key) => {
        inner.delete(key)
        final.delete(key.toString())
        final.set(key.toString(), undefined)
      },
      commit: async (options?: AbortOptions) => {
        // the keys are dropped first: a failed commit leaves nothing stale in the cache
        for (const id of final.keys()) {
          this.#forget(id)
          this.#pending.delete(id)
        }
        await inner.commit(options)
        for (const [id, value] of final) if (value !== undefined) this.#remember(id, value)
      }
    }
  }

  async *query(q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    await this.#flush()
    yield* this.#inner.query(q, options)
  }

  async *queryKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    await this.#flush()
    yield* this.#inner.queryKeys(q, options)
  }

  /** The inner store's count of the keys under `prefix`, when it keeps one (see `KeyCounter`). */
  countKeys(prefix: string): number | undefined {
    return this.#inner.countKeys?.(prefix)
  }

  #scheduleFlush(): void {
    if (this.#pending.size >= MAX_PENDING_PEERS) {
      void this.#flush()
      return
    }
    if (this.#flushTimer !== undefined) return
    this.#flushTimer = setTimeout(() => void this.#flush(), PEER_FLUSH_MS)
    this.#flushTimer.unref?.()
  }

  /** Writes the pending peer records in one batch (after any flush still running). */
  #flush(): Promise<void> {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (this.#pending.size === 0) return this.#flushing
    const records = [...this.#pending.values()]
    this.#pending.clear()
    this.#flushing = this.#flushing.then(async () => {
      const batch = this.#inner.batch()
      for (const { key, value } of records) batch.put(key, value)
      // an address book write that failed (a full disk) is dropped: identify and the DHT refill it
      try {
        await batch.commit()
      } catch {}
    })
    return this.#flushing
  }

  #remember(id: string, value: Uint8Array): void {
    this.#forget(id)
    const size = value.byteLength + id.length
    if (size > this.#maxBytes / 8) return // one large value must not empty the cache
    this.#values.set(id, copyBytes(value))
    this.#bytes += size
    for (const [old, v] of this.#values) {
      if (this.#bytes <= this.#maxBytes) break
      this.#values.delete(old)
      this.#bytes -= v.byteLength + old.length
    }
  }

  #forget(id: string): void {
    const v = this.#values.get(id)
    if (v === undefined) return
    this.#values.delete(id)
    this.#bytes -= v.byteLength + id.length
  }

  #clear(): void {
    this.#values.clear()
    this.#bytes = 0
  }
}

/** A datastore with what the cache holds now, in bytes. */
export type CachingDatastore = Inner & ReadsWithoutThrowing & KeyCounter & { readonly cachedBytes: number }

/**
 * `inner` behind a read cache of at most `maxBytes` (default {@link DEFAULT_DATASTORE_CACHE_BYTES}).
 * Only this process may write `inner` (the datastore's lock makes sure of it): a write that went around
 * the cache would leave it stale.
 */
export function cachedDatastore(inner: Inner, maxBytes = DEFAULT_DATASTORE_CACHE_BYTES): CachingDatastore {
  return new CachedDatastore(inner, maxBytes) as unknown as CachingDatastore
}
