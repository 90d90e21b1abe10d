/**
 * Who is known to hold a record, for `UCXLMetadata.dhtPeers`: what the node already knows
 * (replication's proven holders, given as {@link RecordHolders}), never a network query per result.
 */
import { digestOfBase, versionKey } from './address.js'
import type { UCXLMetadata } from './types.js'

/**
 * What this node knows of a record's holders (`ReplicationManager.knownHolders` fits): peers
 * that proved they hold the record under `key` (a DHT key `/CHORUS/ucxl/<digest>/v/<n>`), this
 * node left out. Synchronous and local: it is asked once per listed or searched result.
 */
export interface RecordHolders {
  knownHolders(key: string): string[]
}

/** The holders of a record, or none when the node was given no {@link RecordHolders}. */
export interface KnownHolders {
  of(key: string): string[]
}

const MAX_REPORTED = 64

/** {@link KnownHolders} over the optional component; a failing directory reports none. */
export function knownHolders(holders: RecordHolders | undefined, self: string): KnownHolders {
  return {
    of(key) {
      if (holders === undefined) return []
      try {
        return holders
          .knownHolders(key)
          .filter((p) => p !== self)
          .slice(0, MAX_REPORTED)
      } catch {
        // stopped replication, closed store: nothing known right now
        return []
      }
    }
  }
}

/** `metadata` with the known holders of its version added to `dhtPeers` (peers that served or acknowledged it stay first). */
export function withKnownHolders<T extends UCXLMetadata>(metadata: T, holders: KnownHolders): T {
  const known = holders.of(versionKey(digestOfBase(metadata.baseAddress), metadata.version))
  if (known.length === 0) return metadata
  return { ...metadata, dhtPeers: [...new Set([...metadata.dhtPeers, ...known])] }
}
