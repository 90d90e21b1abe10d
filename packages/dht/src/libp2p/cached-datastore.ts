/**
 * A read cache in front of the node's LevelDB datastore, bounded in bytes. libp2p's peer store
 * reads a peer's record before every merge (each identify, each kad-dht answer naming peers), and
 * the record store reads a record before each write and on each validation: profiled under a
 * sustained store load these LevelDB reads were about a sixth of an agent's CPU. Writes go through
 * to LevelDB before they resolve (and then into the cache), so the datastore stays the source of
 * truth; the least recently used values leave once the cache is over its byte budget. Misses are
 * not cached. Queries go to LevelDB, which every write has already reached.
 */
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'

/** The default byte budget of the cache (values plus keys). */
export const DEFAULT_DATASTORE_CACHE_BYTES = 16 * 1_048_576

type Inner = Datastore & { open?(): Promise<void>; close?(): Promise<void> }

class CachedDatastore {
  readonly #inner: Inner
  readonly #maxBytes: number
  /** Key string to value, least recently used first (a Map keeps insertion order). */
  readonly #values = new Map<string, Uint8Array>()
  #bytes = 0

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
    this.#clear()
    await this.#inner.close?.()
  }

  async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const k = await this.#inner.put(key, value, options)
    this.#remember(key.toString(), value)
    return k
  }

  async get(key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const id = key.toString()
    const hit = this.#values.get(id)
    if (hit !== undefined) {
      this.#values.delete(id)
      this.#values.set(id, hit)
      // a copy: a caller that changes what it got must not change the cache
      return hit.slice()
    }
    const value = await this.#inner.get(key, options)
    this.#remember(id, value)
    return value
  }

  async has(key: Key, options?: AbortOptions): Promise<boolean> {
    return this.#values.has(key.toString()) || (await this.#inner.has(key, options))
  }

  async delete(key: Key, options?: AbortOptions): Promise<void> {
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
        for (const id of final.keys()) this.#forget(id)
        await inner.commit(options)
        for (const [id, value] of final) if (value !== undefined) this.#remember(id, value)
      }
    }
  }

  query(q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this.#inner.query(q, options)
  }

  queryKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this.#inner.queryKeys(q, options)
  }

  #remember(id: string, value: Uint8Array): void {
    this.#forget(id)
    const size = value.byteLength + id.length
    if (size > this.#maxBytes / 8) return // one large value must not empty the cache
    this.#values.set(id, value.slice())
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
export type CachingDatastore = Inner & { readonly cachedBytes: number }

/**
 * `inner` behind a read cache of at most `maxBytes` (default {@link DEFAULT_DATASTORE_CACHE_BYTES}).
 * Only this process may write `inner` (LevelDB's lock makes sure of it): a write that went around
 * the cache would leave it stale.
 */
export function cachedDatastore(inner: Inner, maxBytes = DEFAULT_DATASTORE_CACHE_BYTES): CachingDatastore {
  return new CachedDatastore(inner, maxBytes) as unknown as CachingDatastore
}
