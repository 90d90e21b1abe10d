/**
 * What the sweep reads of the store: pinned keys in keyspace order (`position`, SHA-256 of the
 * key's bytes, indexed in the `content` table) and their values. `ReplicationStore` implements it.
 */

/** One pinned key in keyspace order. */
export interface PinnedInRange {
  key: string
  /** SHA-256 of the key's bytes. */
  position: Uint8Array
  /** SHA-256 of the pinned value. */
  digest: Uint8Array
}

/** What the sweep reads of the store (`ReplicationStore` implements it). */
export interface PinnedRanges {
  /** Pinned keys with lo <= position < hi (hi all-zero: no upper bound), ordered by position, paged. */
  pinnedInRange(
    lo: Uint8Array,
    hi: Uint8Array,
    options: { after?: Uint8Array; limit: number }
  ): PinnedInRange[]
  /** How many keys `pinnedInRange(lo, hi)` holds, counting at most `limit`. */
  countPinnedInRange(lo: Uint8Array, hi: Uint8Array, limit: number): number
  /** The pinned value of a key, if any. */
  valueOf(key: string): Uint8Array | undefined
}
