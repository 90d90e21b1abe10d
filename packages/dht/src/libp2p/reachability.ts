/**
 * Reachability (DHT mode `auto`): whether the team can dial this node, from what members observe.
 *
 * Identify tells each peer the address it sees a connection come from. A member that sees one of
 * this node's own interface addresses reached it without translation; a member that sees another
 * host saw it through a NAT. Any translated observation from a current member makes the node
 * `private`: kad-dht runs as a client (it cannot answer queries from outside its NAT) and, with
 * the relay client on, the node listens on `/p2p-circuit`, which makes the circuit relay transport
 * reserve a slot on a member relay and announce the relayed addresses. Observations that are all
 * direct make it `public` again: a kad-dht server that offers relay service (relay-gate.ts).
 * libp2p's AutoNAT runs beside this for public addresses; it skips private ones by design, and a
 * team network is usually private, hence this decision of our own.
 *
 * It also counts relayed connections and the direct connections that replaced them (hole punching
 * with DCUtR), for the statistics.
 */
import { networkInterfaces } from 'node:os'
import type { Logger } from '@chorus/common'
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { ChorusLibp2p } from './node.js'

export type Reachability = 'unknown' | 'public' | 'private'

/** Reachability figures (`getStats().reachability`). */
export interface ReachabilityStats {
  status: Reachability
  /** Relayed (limited) connections opened since start, either direction. */
  relayedConnections: number
  /** Direct connections opened since start to a peer that had a relayed one within a minute. */
  directUpgrades: number
  /** This node's `/p2p-circuit` addresses (a reservation on a relay). */
  relayAddresses: number
  /** Reservations this node holds for others as a relay. */
  relayReservations: number
  /** The relays (peer ids) of this node's `/p2p-circuit` addresses. */
  relays: string[]
}

export interface ReachabilityComponents {
  node: ChorusLibp2p
  logger: Logger
  /** Whether the peer is an admitted member right now (every peer counts without admission). */
  isMember: (peer: string) => boolean
}

export interface ReachabilityInit {
  /** Follow reachability with kad-dht's mode (`auto`); otherwise only observe and count. */
  followMode: boolean
  /** Listen on `/p2p-circuit` (reserve a relay slot) once the node is found private. */
  reserveWhenPrivate: boolean
}

/** Circuit relay v2's hop protocol: the peers that offer relay service. */
const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
/** A relay that refused or failed a reservation is tried again after this long. */
const RELAY_RETRY_MS = 60_000
/** Most peers whose observation is kept. */
const MAX_OBSERVERS = 64
/** A direct connection within this time of a relayed one to the same peer counts as an upgrade. */
const UPGRADE_WINDOW_MS = 60_000

export class ReachabilityService {
  readonly #c: ReachabilityComponents
  readonly #init: ReachabilityInit
  /** Peer -> whether it saw this node's own address (true) or a translated one (false). */
  readonly #observed = new Map<string, boolean>()
  /** Peer -> when a relayed connection to it last opened. */
  readonly #relayedAt = new Map<string, number>()
  readonly #undo: Array<() => void> = []
  #status: Reachability = 'unknown'
  #relayed = 0
  #upgrades = 0
  #reserving = false
  /** Relay -> when a reservation on it was last tried. */
  readonly #triedRelays = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined

  constructor(components: ReachabilityComponents, init: ReachabilityInit) {
    this.#c = components
    this.#init = init
  }

  get status(): Reachability {
    return this.#status
  }

  async start(): Promise<void> {
    const { node } = this.#c
    const on = (type: 'peer:identify' | 'connection:open', fn: (detail: never) => void): void => {
      const l = (evt: Event): void => fn((evt as CustomEvent).detail as never)
      node.addEventListener(type, l)
      this.#undo.push(() => node.removeEventListener(type, l))
    }
    on('peer:identify', (r: IdentifyResult) => this.#onIdentify(r))
    on('connection:open', (c: Connection) => this.#onOpen(c))
    // admission decides after identify: decide again while observations wait for it; keep a
    // relay reservation while private
    this.#timer = setInterval(() => {
      this.#decide()
      if (this.#status === 'private' && this.#init.reserveWhenPrivate) void this.#keepRelay()
    }, 2_000)
    this.#timer.unref?.()
  }

  async stop(): Promise<void> {
    for (const u of this.#undo.splice(0)) u()
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#observed.clear()
    this.#relayedAt.clear()
    this.#status = 'unknown'
    this.#reserving = false
    this.#triedRelays.clear()
  }

  stats(): ReachabilityStats {
    const { node } = this.#c
    const relay = (node.services as { relay?: { reservations?: Map<unknown, unknown> } }).relay
    const circuits = node
      .getMultiaddrs()
      .map(String)
      .filter((m) => m.includes('/p2p-circuit'))
    const relays = new Set(
      circuits.map((m) => /\/p2p\/([^/]+)\/p2p-circuit/.exec(m)?.[1]).filter((x) => x != null)
    )
    return {
      status: this.#status,
      relayedConnections: this.#relayed,
      directUpgrades: this.#upgrades,
      relayAddresses: circuits.length,
      relayReservations: relay?.reservations?.size ?? 0,
      relays: [...relays] as string[]
    }
  }

  #onOpen(connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (isRelayed(connection)) {
      this.#relayed++
      this.#relayedAt.set(peer, Date.now())
      if (this.#relayedAt.size > MAX_OBSERVERS * 4)
        this.#relayedAt.delete(this.#relayedAt.keys().next().value!)
      return
    }
    const at = this.#relayedAt.get(peer)
    if (at !== undefined && Date.now() - at <= UPGRADE_WINDOW_MS) {
      this.#relayedAt.delete(peer)
      this.#upgrades++
      this.#c.logger.debug({ peer }, 'relayed connection upgraded to a direct one')
    }
  }

  #onIdentify(result: IdentifyResult): void {
    const seen = result.observedAddr
    if (seen == null || result.connection == null || isRelayed(result.connection)) return
    const host = ipHost(seen.toString())
    // a name (dns) or another protocol tells nothing about translation
    if (host === undefined) return
    const own = this.#ownHosts()
    if (own.size === 0) return
    const peer = result.peerId.toString()
    this.#observed.delete(peer)
    this.#observed.set(peer, own.has(host))
    if (this.#observed.size > MAX_OBSERVERS) this.#observed.delete(this.#observed.keys().next().value!)
    this.#decide()
  }

  /** The IP hosts of this node: its listen addresses, every interface's when it listens on all. */
  #ownHosts(): Set<string> {
    const hosts = new Set<string>()
    for (const ma of this.#c.node.getMultiaddrs()) {
      const h = ipHost(ma.toString())
      if (h !== undefined) hosts.add(h)
    }
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) hosts.add(i.address)
    }
    return hosts
  }

  #decide(): void {
    let direct = 0
    let translated = 0
    for (const [peer, own] of this.#observed) {
      if (!this.#c.isMember(peer)) continue
      if (own) direct++
      else translated++
    }
    const next: Reachability = translated > 0 ? 'private' : direct > 0 ? 'public' : this.#status
    if (next === this.#status) return
    this.#status = next
    this.#c.logger.info({ reachability: next, direct, translated }, 'reachability changed')
    void this.#apply(next).catch((err: unknown) => {
      this.#c.logger.warn({ err: String(err) }, 'cannot apply the reachability change')
    })
  }

  async #apply(status: Reachability): Promise<void> {
    const { node } = this.#c
    if (this.#init.followMode) await node.services.dht.setMode(status === 'private' ? 'client' : 'server')
    if (status === 'private' && this.#init.reserveWhenPrivate) await this.#keepRelay()
  }

  /**
   * Without a relayed address, reserves a slot on one connected member that offers the relay
   * protocol (one at a time, each tried at most once a minute). A given relay rather than
   * libp2p's relay search: the search walks the DHT at random and, on a client whose routing table
   * is empty, spins without end (each empty query returns at once).
   */
  async #keepRelay(): Promise<void> {
    if (this.#reserving) return
    const { node } = this.#c
    if (node.getMultiaddrs().some((m) => m.toString().includes('/p2p-circuit'))) return
    this.#reserving = true
    try {
      const now = Date.now()
      for (const connection of node.getConnections()) {
        if (isRelayed(connection) || connection.direction !== 'outbound') continue
        const peer = connection.remotePeer.toString()
        if (!this.#c.isMember(peer) || now - (this.#triedRelays.get(peer) ?? 0) < RELAY_RETRY_MS) continue
        const protocols = await node.peerStore
          .get(connection.remotePeer)
          .then((p) => p.protocols)
          .catch(() => [] as string[])
        if (!protocols.includes(RELAY_HOP_PROTOCOL)) continue
        this.#triedRelays.set(peer, now)
        const base = connection.remoteAddr.toString()
        const addr = `${base.includes('/p2p/') ? base : `${base}/p2p/${peer}`}/p2p-circuit`
        try {
          await listenOn(node, addr)
          this.#c.logger.info({ relay: peer }, 'reserved a slot on a member relay')
          return
        } catch (err) {
          this.#c.logger.debug({ relay: peer, err: String(err) }, 'relay reservation refused or failed')
        }
      }
    } finally {
      this.#reserving = false
    }
  }
}

/** A relayed connection: limited, or its remote address runs through `/p2p-circuit`. */
export function isRelayed(connection: Connection): boolean {
  return connection.limits != null || connection.remoteAddr.toString().includes('/p2p-circuit')
}

/** The IPv4/IPv6 host of a multiaddr string, undefined for others. */
function ipHost(ma: string): string | undefined {
  try {
    const c = multiaddr(ma).getComponents()[0]
    return c != null && (c.name === 'ip4' || c.name === 'ip6') ? c.value : undefined
  } catch {
    return undefined
  }
}

/**
 * Adds a listener (`<relay>/p2p-circuit`: a reservation on that relay, whose relayed addresses are
 * then announced). libp2p has no public call for a listener added after start; its transport
 * manager does it (libp2p ^3.3).
 */
async function listenOn(node: ChorusLibp2p, addr: string): Promise<void> {
  const tm = (
    node as unknown as { components?: { transportManager?: { listen(a: unknown[]): Promise<void> } } }
  ).components?.transportManager
  if (tm == null) throw new Error('libp2p has no transport manager to listen with')
  await tm.listen([multiaddr(addr)])
}

export type { PeerId }
