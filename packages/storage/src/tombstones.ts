/**
 * Tombstones as this node learns of them. One object shared by the record rules (the DHT's
 * validator path: kad PUT_VALUE and GET answers, the direct and replicate protocols, the local DHT)
 * and the storage facade (retrieves, indexing, its own deletes): every path that meets a valid
 * tombstone reports it here, and storage drops the address from its cache and index, and, for a
 * purge, the earlier versions' records. While a purge stands, the rules refuse the purged versions'
 * records from the network.
 */
import type { Envelope } from './envelope.js'

/** A valid tombstone some path met: its envelope and the digest of its address. */
export interface TombstoneSeen {
  envelope: Envelope
  digest: string
}

export interface Tombstones {
  /** Reports a tombstone that passed the record check (idempotent; cheap when already known). */
  observe(seen: TombstoneSeen): void
  /** Called for each observed tombstone; the storage facade subscribes. Returns the unsubscribe. */
  subscribe(handler: (seen: TombstoneSeen) => void): () => void
  /** Marks the versions of the address (by digest) below `version` as purged. */
  markPurged(digest: string, version: number): void
  /** The version below which the address's versions were purged, if any. */
  purgedBelow(digest: string): number | undefined
}

/** Most addresses whose purge this node remembers in memory (the index keeps them all). */
const MAX_PURGES = 100_000

/**
 * Creates the registry. Pass the same one to `chorusRecordRules({ tombstones })` and to
 * `createEncryptedStorage({ tombstones })` (a node builds its rules before its storage).
 */
export function createTombstones(): Tombstones {
  const handlers = new Set<(seen: TombstoneSeen) => void>()
  const purged = new Map<string, number>()
  return {
    observe(seen) {
      for (const h of handlers) h(seen)
    },
    subscribe(handler) {
      handlers.add(handler)
      return () => handlers.delete(handler)
    },
    markPurged(digest, version) {
      const held = purged.get(digest)
      if (held !== undefined && held >= version) return
      if (held === undefined && purged.size >= MAX_PURGES) {
        const oldest = purged.keys().next().value
        if (oldest !== undefined) purged.delete(oldest)
      }
      purged.set(digest, version)
    },
    purgedBelow(digest) {
      return purged.get(digest)
    }
  }
}
