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
    // admission decides after identify: decide again while observations wait for it
    this.#timer = setInterval(() => this.#decide(), 2_000)
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
  }

  stats(): ReachabilityStats {
    const { node } = this.#c
    const relay = (node.services as { relay?: { reservations?: Map<unknown, unknown> } }).relay
    return {
      status: this.#status,
      relayedConnections: this.#relayed,
      directUpgrades: this.#upgrades,
      relayAddresses: node.getMultiaddrs().filter((m) => m.toString().includes('/p2p-circuit')).length,
      relayReservations: relay?.reservations?.size ?? 0
    }
  }

  #onOpen(connection: Connection): void {
    const peer = connection.remotePeer.toString()
    if (isRelayed(connection)) {
      this.#relayed++
      this.#relayedAt.set(peer, Date.now())
      if (this.#relayedAt.size > MAX_OBSERVERS * 4) this.#relayedAt.delete(this.#relayedAt.keys().next().value!)
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
    if (status === 'private' && this.#init.reserveWhenPrivate && !this.#reserving) {
      this.#reserving = true
      await listenOnRelay(node)
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
 * Adds `/p2p-circuit` to the node's listeners: the circuit relay transport then reserves a slot
 * on a relay among the connected peers and announces the relayed addresses. libp2p has no public
 * call for a listener added after start; its transport manager does it (libp2p ^3.3).
 */
async function listenOnRelay(node: ChorusLibp2p): Promise<void> {
  const tm = (node as unknown as { components?: { transportManager?: { listen(a: unknown[]): Promise<void> } } })
    .components?.transportManager
  if (tm == null) throw new Error('libp2p has no transport manager to listen with')
  await tm.listen([multiaddr('/p2p-circuit')])
}

export type { PeerId }
