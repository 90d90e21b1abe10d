/**
 * STAND-IN until the state helper's `ReplicationStore.pinnedInRange` / `valueOf` are merged: the
 * same signatures, over the same `content` table. It adds a `position BLOB` column (SHA-256 of
 * the key's UTF-8 bytes, the key's place in the Kademlia keyspace) with an index, fills it for
 * rows that lack it on each query (a cheap indexed `position IS NULL` scan once filled), and pages
 * through it. At the merge, `standInRanges(store)` is replaced by the store itself.
 */
import type { DatabaseSync } from 'node:sqlite'
import { keyPosition } from '@chorus/dht'
import { valueDigest } from '../proof.js'
import type { ReplicationStore } from '../store.js'

/** One pinned key in keyspace order. */
export interface PinnedInRange {
  key: string
  /** SHA-256 of the key's bytes. */
  position: Uint8Array
  /** SHA-256 of the pinned value. */
  digest: Uint8Array
  /** Bytes of the pinned value. */
  size: number
}

/** What the sweep reads of the store (`ReplicationStore` implements it after the merge). */
export interface PinnedRanges {
  /** Pinned keys with lo <= position < hi (hi all-zero: no upper bound), ordered by position, paged. */
  pinnedInRange(
    lo: Uint8Array,
    hi: Uint8Array,
    options: { after?: Uint8Array; limit: number }
  ): Array<{ key: string; position: Uint8Array; digest: Uint8Array; size: number }>
  /** The pinned value of a key, if any. */
  valueOf(key: string): Uint8Array | undefined
}

const ZERO = new Uint8Array(32)
const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Uint8Array)
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0)

/** The stand-in over `store`'s database (reached through its private field: stand-in only). */
export function standInRanges(store: ReplicationStore): PinnedRanges {
  const db = (store as unknown as { db: DatabaseSync }).db
  const have = db
    .prepare('PRAGMA table_info(content)')
    .all()
    .some((r) => r.name === 'position')
  if (!have) db.exec('ALTER TABLE content ADD COLUMN position BLOB')
  db.exec('CREATE INDEX IF NOT EXISTS content_by_position ON content (position)')
  const missing = db.prepare('SELECT key FROM content WHERE position IS NULL LIMIT 1000')
  const setPosition = db.prepare('UPDATE content SET position = ? WHERE key = ?')
  const fill = (): void => {
    for (;;) {
      const rows = missing.all()
      if (rows.length === 0) return
      for (const r of rows) setPosition.run(keyPosition(String(r.key)), String(r.key))
    }
  }
  const query = (bounded: boolean) =>
    db.prepare(
      `SELECT key, position, value_digest, length(value) AS size FROM content
       WHERE value IS NOT NULL AND position >= ? AND position > ? ${bounded ? 'AND position < ?' : ''}
       ORDER BY position LIMIT ?`
    )
  const bounded = query(true)
  const open = query(false)
  const selectValue = db.prepare('SELECT value FROM content WHERE key = ? AND value IS NOT NULL')
  return {
    pinnedInRange(lo, hi, options) {
      fill()
      // `position > after`; without one, any position >= lo (a 33-byte zero never sorts above)
      const after = options.after ?? new Uint8Array(0)
      const rows = isZero(hi) ? open.all(lo, after, options.limit) : bounded.all(lo, after, hi, options.limit)
      return rows.map((r) => {
        const key = String(r.key)
        let digest = r.value_digest == null ? undefined : bytes(r.value_digest)
        if (digest == null) {
          const v = selectValue.get(key)?.value
          digest = v == null ? ZERO : valueDigest(bytes(v))
        }
        return { key, position: bytes(r.position), digest, size: Number(r.size) }
      })
    },
    valueOf(key) {
      const v = selectValue.get(key)?.value
      return v == null ? undefined : bytes(v)
    }
  }
}

const standIns = new WeakMap<ReplicationStore, PinnedRanges>()

/** The (stand-in) ranges of an open store, built once per store. At the merge: the store itself. */
export function rangesOf(store: ReplicationStore): PinnedRanges {
  let r = standIns.get(store)
  if (r == null) {
    r = standInRanges(store)
    standIns.set(store, r)
  }
  return r
}
