import { copyBytes } from '@chorus/common'
import { LRUCache } from 'lru-cache'
import type { StorageKeyring, UCXLMetadata } from './types.js'

/** What made a cached plaintext readable here. */
export interface CacheOpener {
  /** The role whose key opened it (retrieve), or the role this node wrote it as (store). */
  role: string
  /** The id of the key that opened it; none for content this node wrote. */
  keyId?: string
}

export interface CacheEntry {
  content: Uint8Array
  metadata: UCXLMetadata
  opener: CacheOpener
  cachedAt: number
  expiresAt: number
}

/**
 * Whether the node could still open what `opener` opened: it holds the key (or, for content it
 * wrote, a key of the role).
 */
export function stillOpens(
  keyring: Pick<StorageKeyring, 'holdsKey' | 'holdsRole'>,
  opener: CacheOpener
): boolean {
  return opener.keyId === undefined ? keyring.holdsRole(opener.role) : keyring.holdsKey(opener.keyId)
}

export interface ContentCacheInit {
  /** Time to live of an entry in ms. */
  ttl: number
  /** Most entries held; undefined: no bound on entries (the bytes bound them). */
  maxEntries?: number | undefined
  /** Most bytes held, each entry counted by {@link cacheEntryBytes}. */
  maxBytes: number
}

/** What an entry costs besides its bytes of content, metadata and key (objects, map slot). */
export const CACHE_ENTRY_OVERHEAD = 256

/** Bytes of a metadata object: its strings (2 bytes a character), numbers and arrays. */
function metadataBytes(metadata: UCXLMetadata): number {
  let n = 0
  for (const v of Object.values(metadata)) {
    if (typeof v === 'string') n += 2 * v.length
    else if (Array.isArray(v)) for (const x of v) n += 16 + (typeof x === 'string' ? 2 * x.length : 8)
    else if (v instanceof Uint8Array) n += v.byteLength
    else n += 8
  }
  return n
}

/** What one cached entry under `key` counts against `maxBytes`. */
export function cacheEntryBytes(key: string, entry: CacheEntry): number {
  return (
    CACHE_ENTRY_OVERHEAD +
    2 * key.length +
    entry.content.byteLength +
    metadataBytes(entry.metadata) +
    2 * (entry.opener.role.length + (entry.opener.keyId?.length ?? 0))
  )
}

const LATEST = '\u0000latest'

/**
 * Decrypted content by address and version, bounded in bytes (each entry's content, metadata, key
 * and a fixed overhead; lru-cache evicts the least recently used) and expiring after `ttl`. `<base>\0latest` points at the newest version
 * this node has seen, so `*^` is answered without a DHT round trip while it is fresh.
 */
export class ContentCache {
  private readonly lru: LRUCache<string, CacheEntry>
  private readonly ttl: number

  constructor(init: ContentCacheInit) {
    this.ttl = init.ttl
    this.lru = new LRUCache<string, CacheEntry>({
      ...(init.maxEntries != null ? { max: init.maxEntries } : {}),
      maxSize: init.maxBytes,
      sizeCalculation: (e, key) => cacheEntryBytes(key, e),
      ttl: init.ttl,
      // Expired entries are dropped on access and by cleanup(); no timer per entry.
      ttlAutopurge: false,
      allowStale: false,
      updateAgeOnGet: false
    })
  }

  static versionKey(base: string, version: number): string {
    return `${base}\u0000v${version}`
  }

  static latestKey(base: string): string {
    return base + LATEST
  }

  get(key: string): CacheEntry | undefined {
    return this.lru.get(key)
  }

  /**
   * Caches a version, tagged with what opened it; when it is the newest seen for the address,
   * also as its latest.
   */
  put(
    base: string,
    content: Uint8Array,
    metadata: UCXLMetadata,
    latest: boolean,
    opener: CacheOpener
  ): CacheEntry {
    const now = Date.now()
    // its own copy: a view (a decrypted Buffer) would keep its whole backing buffer in the cache
    const entry: CacheEntry = {
      content: copyBytes(content),
      metadata,
      opener,
      cachedAt: now,
      expiresAt: now + this.ttl
    }
    const key = ContentCache.versionKey(base, metadata.version)
    if (cacheEntryBytes(ContentCache.latestKey(base), entry) > this.lru.maxSize) return entry
    this.lru.set(key, entry)
    if (latest) {
      const current = this.lru.peek(ContentCache.latestKey(base))
      if (current === undefined || current.metadata.version <= metadata.version) {
        this.lru.set(ContentCache.latestKey(base), entry)
      }
    }
    return entry
  }

  /** Drops every cached version of an address. */
  invalidate(base: string): number {
    const prefix = `${base}\u0000`
    let n = 0
    for (const key of [...this.lru.keys()]) {
      if (key.startsWith(prefix)) {
        this.lru.delete(key)
        n++
      }
    }
    return n
  }

  /** Drops every entry whose opener `opens` no longer accepts (a removed key) and the expired ones; returns how many. */
  purge(opens: (opener: CacheOpener) => boolean): number {
    // expired entries first: the iteration below skips them, and they hold plaintext too
    let n = this.cleanup()
    for (const [key, entry] of [...this.lru.entries()]) {
      if (!opens(entry.opener)) {
        this.lru.delete(key)
        n++
      }
    }
    return n
  }

  /** Removes expired entries; returns how many were removed. */
  cleanup(): number {
    const before = this.lru.size
    this.lru.purgeStale()
    return before - this.lru.size
  }

  /** Drops everything (the storage's stop). */
  stop(): void {
    this.clear()
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }

  get bytes(): number {
    return this.lru.calculatedSize
  }
}
