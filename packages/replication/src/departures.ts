/**
 * Departure watch: when a peer this node was connected to goes away, the keys it was known to
 * hold are checked within half a second instead of at their next periodic check. A holder leaving
 * is the event that makes a record under-replicated; a transient disconnect costs one local check
 * and a ping.
 *
 * Arrivals matter too: when a DHT server connects (a partition healed, a NATed node found the team
 * again), the keys last found short of reachable holders are checked within a second instead of
 * after their repair back-off, so a record written where no server could be reached moves to the
 * servers as soon as one can be.
 */
import type { Logger } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ContentEntries } from './entries.js'
import { withJitter } from './timing.js'

/** The checks of a departed holder's keys come due within this much. */
const DEPARTURE_SPREAD_MS = 500

export interface DepartureWatchComponents {
  messaging: Pick<PeerMessaging, 'getConnectedPeers'>
  entries: Pick<ContentEntries, 'markPeerDeparted' | 'bringForwardShort'>
  /** Whether the peer is a DHT server (one the network can reach and look up). */
  isServer: (peer: string) => boolean
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
  /** The connected DHT servers at the last call. */
  private lastServers: Set<string> | undefined

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
    // a connected server new since the last call (identify may tell a peer is one after it connected)
    const servers = new Set([...current].filter((p) => this.components.isServer(p)))
    const before = this.lastServers
    this.lastServers = servers
    const arrived = before == null ? undefined : [...servers].find((p) => !before.has(p))
    if (arrived !== undefined) {
      const keys = entries.bringForwardShort(now + withJitter(500, 1))
      if (keys > 0) log.debug({ peer: arrived, keys }, 'replication: a DHT server connected')
    }
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
    this.lastServers = undefined
  }
}
