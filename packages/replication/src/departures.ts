/**
 * Departure watch: when a peer this node was connected to goes away and stays away for
 * `departureGrace` (10 s), the keys it was known to hold are checked within half a second instead
 * of at their next periodic check. A holder leaving is the event that makes a record
 * under-replicated; a peer that comes back within the grace (a restart, a dropped connection)
 * costs nothing: checked at once, its departure made every co-holder check and re-replicate every
 * key it held while it restarted, work that grows with the keys, on every restart.
 *
 * Arrivals matter too: when a DHT server connects (a partition healed, a NATed node found the team
 * again), the keys last found short of reachable holders are checked within a second instead of
 * after their repair back-off, so a record written where no server could be reached moves to the
 * servers as soon as one can be.
 *
 * A server that turns client (AutoNAT found it behind NAT again, say once a partition that let
 * its own site dial it healed) is a departure too, though it stays connected: its copies no
 * longer count. When this node itself turns client, every key it holds is checked, spread over
 * a few seconds (2 ms a key in a large store): its own copy counted in each of them.
 */
import type { Logger } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ContentEntries } from './entries.js'
import { withJitter } from './timing.js'

/** The checks of a departed holder's keys come due within this much. */
const DEPARTURE_SPREAD_MS = 500
/**
 * The checks of every held key, when this node turns client, come due within this much, or 2 ms
 * a key when longer: a large store is not checked in one burst.
 */
const SELF_CLIENT_SPREAD_MS = 5_000
const SELF_CLIENT_SPREAD_MS_PER_KEY = 2

export interface DepartureWatchComponents {
  messaging: Pick<PeerMessaging, 'getConnectedPeers'>
  entries: Pick<ContentEntries, 'markPeerDeparted' | 'bringForwardShort' | 'bringForwardAll' | 'size'>
  /** This node's peer id. */
  self: string
  /** Whether the peer (this node included) is a DHT server (one the network can reach and look up). */
  isServer: (peer: string) => boolean
  /** Forgets the peer's cached liveness, so the next check probes it. */
  forget: (peer: string) => void
  log: Logger
}

export interface DepartureWatchInit {
  /** Without auto-replication departures only update the connected set. */
  enableAutoReplication: boolean
  /** How long a disconnected peer may stay away before it departed, in ms. Default 0. */
  departureGrace?: number
}

export class DepartureWatch {
  private readonly components: DepartureWatchComponents
  private readonly init: DepartureWatchInit
  private lastConnected: Set<string> | undefined
  /** The connected DHT servers at the last call. */
  private lastServers: Set<string> | undefined
  /** Whether this node was a DHT server at the last call. */
  private wasServer: boolean | undefined
  /** Peers that disconnected within the grace, and when (as many as the connections dropped). */
  private readonly away = new Map<string, number>()

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
    const { isServer, self } = this.components
    const server = isServer(self)
    if (this.wasServer === true && !server) {
      const spread = Math.max(SELF_CLIENT_SPREAD_MS, entries.size * SELF_CLIENT_SPREAD_MS_PER_KEY)
      const keys = entries.bringForwardAll(now, spread)
      if (keys > 0) log.info({ keys }, 'replication: this node turned DHT client; its keys are checked')
    }
    this.wasServer = server
    // a connected server new since the last call (identify may tell a peer is one after it connected)
    const servers = new Set([...current].filter((p) => isServer(p)))
    const before = this.lastServers
    this.lastServers = servers
    const arrived = before == null ? undefined : [...servers].find((p) => !before.has(p))
    if (arrived !== undefined) {
      const keys = entries.bringForwardShort(now + withJitter(500, 1))
      if (keys > 0) log.debug({ peer: arrived, keys }, 'replication: a DHT server connected')
    }
    for (const peer of previous) {
      if (current.has(peer)) {
        // still connected but no longer a server: its copies stopped counting
        if (before?.has(peer) === true && !servers.has(peer)) this.departed(peer, now, 'turned DHT client')
        continue
      }
      this.components.forget(peer)
      this.away.set(peer, now)
    }
    const grace = this.init.departureGrace ?? 0
    for (const [peer, since] of this.away) {
      if (current.has(peer)) this.away.delete(peer)
      else if (now - since >= grace) {
        this.away.delete(peer)
        this.departed(peer, now, 'disconnected')
      }
    }
  }

  /**
   * One statement for all the peer's keys, their checks spread over half a second: a peer that
   * held many keys must not block the event loop with a write per key.
   */
  private departed(peer: string, now: number, why: string): void {
    const affected = this.components.entries.markPeerDeparted(peer, now, DEPARTURE_SPREAD_MS)
    if (affected > 0)
      this.components.log.debug({ peer, keys: affected, why }, 'replication: a co-holder left')
  }

  reset(): void {
    this.away.clear()
    this.lastConnected = undefined
    this.lastServers = undefined
    this.wasServer = undefined
  }
}
