/**
 * Departure watch: when a peer this node was connected to goes away, the keys it was known to
 * hold are checked within half a second instead of at their next periodic check. A holder leaving
 * is the event that makes a record under-replicated; a transient disconnect costs one local check
 * and a ping.
 */
import type { Logger } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ContentEntries } from './entries.js'
import type { ReplicationStore } from './store.js'
import { withJitter } from './timing.js'

export interface DepartureWatchComponents {
  messaging: Pick<PeerMessaging, 'getConnectedPeers'>
  entries: Pick<ContentEntries, 'markDeparted'>
  /** The open store, or undefined while stopped. */
  store: () => Pick<ReplicationStore, 'keysProvidedBy'> | undefined
  /** Forgets the peer's cached liveness, so the next check probes it. */
  forget: (peer: string) => void
  log: Logger
}

export interface DepartureWatchInit {
  /** Without auto-replication departures only update the connected set. */
  enableAutoReplication: boolean
}

export class DepartureWatch {
  private readonly components: DepartureWatchComponents
  private readonly init: DepartureWatchInit
  private lastConnected: Set<string> | undefined

  constructor(components: DepartureWatchComponents, init: DepartureWatchInit) {
    this.components = components
    this.init = init
  }

  /** Compares the connected peers with the last call's and brings the departed holders' keys forward. */
  check(now: number): void {
    const { messaging, entries, log } = this.components
    const current = new Set(messaging.getConnectedPeers())
    const previous = this.lastConnected
    this.lastConnected = current
    const store = this.components.store()
    if (previous == null || store == null || !this.init.enableAutoReplication) return
    for (const peer of previous) {
      if (current.has(peer)) continue
      this.components.forget(peer)
      let affected = 0
      for (const key of store.keysProvidedBy(peer)) {
        // the check comes forward in the database (and in a job's entry that holds it)
        if (entries.markDeparted(key, now + withJitter(250, 1))) affected++
      }
      if (affected > 0) log.debug({ peer, keys: affected }, 'replication: a co-holder disconnected')
    }
  }

  reset(): void {
    this.lastConnected = undefined
  }
}
