/**
 * Departure watch: when a peer this node was connected to goes away, the keys it was known to
 * hold are checked within half a second instead of at their next periodic check. A holder leaving
 * is the event that makes a record under-replicated; a transient disconnect costs one local check
 * and a ping.
 */
import type { Logger } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ContentEntries } from './entries.js'

/** The checks of a departed holder's keys come due within this much. */
const DEPARTURE_SPREAD_MS = 500

export interface DepartureWatchComponents {
  messaging: Pick<PeerMessaging, 'getConnectedPeers'>
  entries: Pick<ContentEntries, 'markPeerDeparted'>
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
    if (previous == null || !this.init.enableAutoReplication) return
    for (const peer of previous) {
      if (current.has(peer)) continue
      this.components.forget(peer)
      // one statement for all its keys, their checks spread over half a second: a peer that held
      // many keys must not block the event loop with a write per key
      const affected = entries.markPeerDeparted(peer, now, DEPARTURE_SPREAD_MS)
      if (affected > 0) log.debug({ peer, keys: affected }, 'replication: a co-holder disconnected')
    }
  }

  reset(): void {
    this.lastConnected = undefined
  }
}
