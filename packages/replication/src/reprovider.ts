/**
 * The reprovider: announces held keys as provided (at once after `addContent`, then every
 * `reprovideInterval`), puts held values to the network again every `republishInterval`, and at
 * start serves every pin again from this node's DHT record store. Failures back off exponentially.
 *
 * With `enableSweep` (the default) only a key's first announcement is per key: later ones, and
 * republishing to peers, are the keyspace sweep's (`sweep/sweeper.ts`), which reaches the same
 * closest peers with one lookup per region and one message per peer instead of a query per key;
 * the republish job then only renews the value in this node's own record store.
 */
import { bytesEqual, errorText, type Logger, timeoutSignal } from '@chorus/common'
import { type DHT, NoPeersAcknowledgedError } from '@chorus/dht'
import type { ReplicationConfig } from './config.js'
import type { ContentEntries, Entry } from './entries.js'
import type { ReplicationCounters } from './metrics.js'
import { backoffDelay, republishEvery, SWEPT, withJitter } from './timing.js'

/** Pins checked at start before any walk (see `reserve`). */
export const RESERVE_SAMPLE = 16
/** Pins walked between pauses when the record store lacks some, and the pause. */
const RESERVE_PAGE = 256
const RESERVE_PAUSE_MS = 10

export interface ReproviderComponents {
  dht: Pick<DHT, 'provide' | 'putValue' | 'getValue'>
  entries: Pick<ContentEntries, 'persist' | 'value' | 'values' | 'samplePinned'>
  /** Records that this node provides the key. */
  touchSelf: (key: string, at: number) => void
  counters: Pick<
    ReplicationCounters,
    'reprovideOperations' | 'failedReprovides' | 'lastReprovideTime' | 'republishOperations'
  >
  log: Logger
}

export type ReproviderInit = Pick<
  ReplicationConfig,
  'reprovideInterval' | 'republishInterval' | 'repairBackoffMin' | 'requestTimeout' | 'jitter'
> &
  Partial<Pick<ReplicationConfig, 'enableSweep'>>

export class Reprovider {
  private readonly components: ReproviderComponents
  private readonly init: ReproviderInit

  constructor(components: ReproviderComponents, init: ReproviderInit) {
    this.components = components
    this.init = init
  }

  /**
   * Serves every pinned value again from this node's DHT record store, where it is missing or
   * another value (a record store lost or replaced), when a sample of {@link RESERVE_SAMPLE} pins
   * shows some missing; returns how many. A record that aged out while the node was down is
   * renewed by its republish job (a local renewal once a day with the sweep).
   */
  async reserve(signal?: AbortSignal): Promise<number> {
    const { entries, dht, log } = this.components
    // A sample first: after a restart on the same record store every sampled pin is served, and
    // no key is read (a restart does no work that grows with the keys held). A record store that
    // was lost or replaced misses them, and then every pin is walked, a page at a time.
    // the pinned value when the record store lacks it or holds another, else undefined
    const unserved = async (key: string): Promise<Uint8Array | undefined> => {
      const value = entries.value(key)
      if (value == null) return undefined
      const held = await dht.getValue(key, { localOnly: true }).catch(() => undefined)
      return held != null && bytesEqual(held, value) ? undefined : value
    }
    const sample = entries.samplePinned(RESERVE_SAMPLE)
    if ((await Promise.all(sample.map(unserved))).every((v) => v === undefined)) return 0
    let reserved = 0
    let walked = 0
    for (const e of entries.values()) {
      if (signal?.aborted === true) break
      // yield between pages: the walk runs beside the node's work, not ahead of it
      if (++walked % RESERVE_PAGE === 0) await new Promise((r) => setTimeout(r, RESERVE_PAUSE_MS))
      const value = e.pinned ? await unserved(e.key) : undefined
      if (value === undefined) continue
      try {
        await dht.putValue(e.key, value, { localOnly: true })
        reserved++
      } catch (err) {
        log.warn({ key: e.key, err: errorText(err) }, 'replication: could not re-serve a pinned value')
      }
    }
    return reserved
  }

  /**
   * Announces the key now; the next announcement is one `reprovideInterval` later. Only an
   * announcement that reached peers counts (`reprovideOperations`, `lastReprovideTime`); one no
   * peer acknowledged rejects with `NoPeersAcknowledgedError` (a `HybridDHT` that journaled it
   * reports no peers: the same) and counts in `failedReprovides`.
   */
  async provide(entry: Entry, signal?: AbortSignal): Promise<string[]> {
    let peers: string[]
    try {
      // the DHT bounds the query itself (its query timeout)
      peers = (await this.components.dht.provide(entry.key, { signal })).peers
      if (peers.length === 0) throw new NoPeersAcknowledgedError(entry.key, { operation: 'provide' })
    } catch (err) {
      if (signal?.aborted !== true) this.components.counters.failedReprovides++
      throw err
    }
    const now = Date.now()
    entry.lastReprovided = now
    entry.nextProvideAt =
      this.init.enableSweep === true ? SWEPT : now + withJitter(this.init.reprovideInterval, this.init.jitter)
    entry.provideFailures = 0
    this.components.counters.reprovideOperations++
    this.components.counters.lastReprovideTime = new Date(now)
    this.components.touchSelf(entry.key, now)
    this.components.entries.persist(entry)
    return peers
  }

  /** The scheduled announcement: on failure, retried after an exponential back-off. */
  async reprovide(entry: Entry, signal: AbortSignal): Promise<void> {
    if (this.init.enableSweep === true && entry.lastReprovided != null) {
      // announced once already: the sweep announces it again, with its region
      entry.nextProvideAt = SWEPT
      return
    }
    try {
      await this.provide(entry, signal)
    } catch (err) {
      entry.provideFailures++
      const c = this.init
      entry.nextProvideAt =
        Date.now() + backoffDelay(entry.provideFailures, c.repairBackoffMin, c.reprovideInterval, c.jitter)
      throw err
    }
  }

  /**
   * Puts the pinned value to the network again; on failure, retried after a back-off. With the
   * sweep, which keeps the closest peers' copies in step, it only writes the value into this
   * node's own DHT record store again (no message): kad-dht drops a record received more than 36 h
   * ago when it is next read, so a holder whose copy the sweep keeps confirming must renew it.
   */
  async republish(entry: Entry, signal: AbortSignal): Promise<void> {
    const c = this.init
    const value = this.components.entries.value(entry.key)
    if (value == null) {
      entry.nextRepublishAt = Date.now() + withJitter(republishEvery(c), c.jitter)
      return
    }
    try {
      await this.components.dht.putValue(entry.key, value, {
        signal: timeoutSignal(c.requestTimeout * 2, signal),
        ...(c.enableSweep === true ? { localOnly: true } : {})
      })
      const now = Date.now()
      entry.lastRepublished = now
      entry.nextRepublishAt = now + withJitter(republishEvery(c), c.jitter)
      entry.republishFailures = 0
      this.components.counters.republishOperations++
      this.components.entries.persist(entry)
    } catch (err) {
      entry.republishFailures++
      entry.nextRepublishAt =
        Date.now() + backoffDelay(entry.republishFailures, c.repairBackoffMin, c.republishInterval, c.jitter)
      throw err
    }
  }
}
