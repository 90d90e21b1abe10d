/**
 * What this node does when it learns of a tombstone, whichever path brought it (its own delete, a
 * retrieve, a push, the DHT's validator, replication): the address leaves the cache, the index
 * records the tombstone (list and search stop returning the address), and for a purge the earlier
 * versions' envelopes leave the index and their records this node's record store, and the rules
 * refuse them while the tombstone stands. Then `onDeleted` tells the application (replication).
 */
import type { DHT, Logger } from '@chorus/dht'
import { digestOfBase, versionKey } from './address.js'
import type { ContentCache } from './cache.js'
import type { IndexAccess } from './local-state.js'
import { hex } from './metadata.js'
import type { TombstoneSeen, Tombstones } from './tombstones.js'
import type { DeletedEvent } from './types.js'

/** Most earlier versions whose records one purge drops from this node's record store. */
export const MAX_PURGE_WALK = 4096

export interface DeletionsComponents {
  tombstones: Tombstones
  local: IndexAccess
  cache: Pick<ContentCache, 'invalidate'>
  dht: Pick<DHT, 'removeLocal'>
  background: { run(what: string, fn: (signal: AbortSignal) => Promise<unknown>): void }
  onDeleted?(event: DeletedEvent): void
  logger?: Logger
}

export class Deletions {
  readonly #c: DeletionsComponents
  #unsubscribe: (() => void) | undefined

  constructor(components: DeletionsComponents) {
    this.#c = components
  }

  /** Restores the purges the index remembers (the rules refuse those versions), then listens. */
  start(): void {
    const { index } = this.#c.local
    for (const p of index.purges()) {
      this.#c.tombstones.markPurged(digestOfBase(p.address), p.purgedBelow)
    }
    this.#unsubscribe ??= this.#c.tombstones.subscribe((seen) => this.apply(seen))
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  /** Applies a valid tombstone; a repeat, or one the index already covers, costs a lookup. */
  apply(seen: TombstoneSeen): void {
    const { envelope: e, digest } = seen
    let index: IndexAccess['index']
    try {
      index = this.#c.local.index
    } catch {
      return // not started: the tombstone is met again by the next read or replication
    }
    const chain = index.getChain(e.address)
    // open mode: a tombstone signed by another key than the chain's author deletes nothing here
    // (team mode: the write rule already refused every author but the address's agent)
    if (chain !== undefined && chain.author !== hex(e.author)) return
    const purge = e.purgeVersions === true
    const known = index.getTombstone(e.address)
    if (known !== undefined && known.version >= e.version && (!purge || known.purgedBelow >= e.version))
      return
    this.#c.cache.invalidate(e.address)
    index.addTombstone(e.address, e.version, purge)
    if (purge) {
      this.#c.tombstones.markPurged(digest, e.version)
      const removeLocal = this.#c.dht.removeLocal
      if (removeLocal !== undefined) {
        this.#c.background.run('drop purged versions', async (signal) => {
          // bounded: a tombstone's version is the signer's claim, not work this node owes it
          const from = Math.max(1, e.version - MAX_PURGE_WALK)
          for (let v = from; v < e.version; v++)
            await removeLocal.call(this.#c.dht, versionKey(digest, v), { signal })
        })
      }
    }
    this.#c.logger?.debug({ address: e.address, version: e.version, purge }, 'address deleted')
    this.#c.onDeleted?.({ address: e.address, digest, version: e.version, purgeVersions: purge })
  }
}
