import { errorText, type Logger } from '@chorus/common'
import type {
  AbortOptions,
  FindProvidersOptions,
  PeerInfo,
  ProvideOptions,
  ProvideResult
} from '../contract.js'
import { DHTConfigError } from '../errors.js'
import {
  decodePeerInfo,
  PEER_INFO_MAX_BYTES,
  PEER_INFO_MAX_REQUEST_BYTES,
  peerInfoHandler,
  peerInfoProtocol,
  type SelfInfo
} from './handlers/peer-info.js'
import type { Scheduler } from './lifetime.js'
import { type KnownPeer, PeerTable } from './peer-table.js'

/** Provider key every CHORUS node announces; discovery looks for its providers. */
export const PEER_ANNOUNCE_KEY = 'CHORUS:peer'
/** Provider key for a role. */
export const roleKey = (role: string): string => `CHORUS:role:${role}`
/** Provider key for a capability. */
export const capabilityKey = (capability: string): string => `CHORUS:capability:${capability}`

/** Most providers of a role or capability looked up by `findPeersByRole`/`findPeersByCapability`. */
const MAX_ANNOUNCED = 200
/** Most `CHORUS:peer` providers looked up by one discovery round. */
const MAX_DISCOVERED = 500

/** Checks a role or capability name: 1-128 characters of `[A-Za-z0-9_.:-]` (`DHTConfigError`). */
export function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(name)) {
    throw new DHTConfigError(`${kind} ${JSON.stringify(name)} must be 1-128 characters of [A-Za-z0-9_.:-]`)
  }
}

export interface DiscoveryComponents {
  /** Provider records (the node's content routing). */
  routing: {
    provide(key: string, options?: ProvideOptions): Promise<ProvideResult>
    findProviders(key: string, options?: FindProvidersOptions): Promise<PeerInfo[]>
  }
  /** Sends one request to a peer (bounded by the node's request timeout). */
  request(
    peer: PeerInfo,
    protocol: string,
    body: Uint8Array,
    options: AbortOptions & { maxResponseBytes: number }
  ): Promise<Uint8Array>
  /** Serves a protocol with one handler per request. */
  serve(
    protocol: string,
    handler: () => Promise<Uint8Array>,
    options: { maxRequestBytes: number }
  ): Promise<void>
  /** This node's id and addresses. */
  self(): PeerInfo
  /** Ids of the peers with an open connection. */
  connectedPeers(): string[]
  /** Size of the Kademlia routing table. */
  routingTableSize(): number
  /** Hears of a peer whose peer-info answer cannot be decoded (it costs reputation). Default: none. */
  onInvalidMessage?(peer: string): void
  scheduler: Scheduler
  logger: Logger
}

export interface DiscoveryInit {
  protocolPrefix: string
  agentVersion: string
  /** This node's role. */
  role?: string | undefined
  /** This node's capabilities. */
  capabilities: readonly string[]
  /** Interval of a discovery round, in ms (0 disables it). */
  discoveryInterval: number
  /** Interval of the known-peer cleanup, in ms (0 disables it). */
  peerCleanupInterval: number
  /** Known peers not seen for this long and not connected are dropped, in ms. */
  peerTTL: number
}

/**
 * Roles and capabilities: this node's announcements (provider records for `CHORUS:role:<r>`,
 * `CHORUS:capability:<c>` and `CHORUS:peer`), the peer-info protocol that tells the details, the
 * lookups by role and capability, the periodic discovery of `CHORUS:peer` providers, and the
 * known-peer table with its cleanup.
 */
export class Discovery {
  readonly #c: DiscoveryComponents
  readonly #init: DiscoveryInit
  readonly #protocol: string
  readonly #self: SelfInfo
  readonly #peers = new PeerTable()
  #peerAnnounced = false

  constructor(components: DiscoveryComponents, init: DiscoveryInit) {
    this.#c = components
    this.#init = init
    this.#protocol = peerInfoProtocol(init.protocolPrefix)
    this.#self = {
      agentVersion: init.agentVersion,
      ...(init.role != null ? { role: init.role } : {}),
      capabilities: [...new Set(init.capabilities)]
    }
  }

  /** Serves the peer-info protocol and schedules discovery and the known-peer cleanup. */
  async start(): Promise<void> {
    const { scheduler, logger } = this.#c
    await this.#c.serve(this.#protocol, peerInfoHandler({ self: () => this.#self }), {
      maxRequestBytes: PEER_INFO_MAX_REQUEST_BYTES
    })
    scheduler.every(this.#init.discoveryInterval, 'discovery', (signal) => this.discover(signal))
    scheduler.every(this.#init.peerCleanupInterval, 'peer cleanup', async () => {
      const removed = this.#peers.cleanup(this.#init.peerTTL, new Set(this.#c.connectedPeers()))
      if (removed > 0) logger.debug({ removed }, 'stale known peers removed')
    })
  }

  /** Forgets that `CHORUS:peer` was announced: a restarted node announces it again. */
  async stop(): Promise<void> {
    this.#peerAnnounced = false
  }

  /** Entries of the known-peer table. */
  get size(): number {
    return this.#peers.size
  }

  registerPeer(peerId: string, agentVersion: string, role: string, capabilities: string[]): void {
    this.#peers.upsert({ id: peerId, agentVersion, role, capabilities })
  }

  getKnownPeers(): KnownPeer[] {
    return this.#peers.list()
  }

  /** Provides the role's key (its result, or `NoPeersAcknowledgedError`), then `CHORUS:peer` (best effort). */
  async announceRole(role: string, options: AbortOptions = {}): Promise<ProvideResult> {
    checkName('role', role)
    this.#self.role = role
    const result = await this.#c.routing.provide(roleKey(role), options)
    try {
      await this.#c.routing.provide(PEER_ANNOUNCE_KEY, options)
    } catch (err) {
      options.signal?.throwIfAborted()
      this.#c.logger.debug(
        { err: errorText(err) },
        'peer announcement not acknowledged; the next round retries'
      )
    }
    return result
  }

  async announceCapability(capability: string, options: AbortOptions = {}): Promise<ProvideResult> {
    checkName('capability', capability)
    if (!this.#self.capabilities.includes(capability)) this.#self.capabilities.push(capability)
    return this.#c.routing.provide(capabilityKey(capability), options)
  }

  async findPeersByRole(role: string, options: AbortOptions = {}): Promise<KnownPeer[]> {
    checkName('role', role)
    return this.#findAnnounced(roleKey(role), (p) => p.role === role, options)
  }

  async findPeersByCapability(capability: string, options: AbortOptions = {}): Promise<KnownPeer[]> {
    checkName('capability', capability)
    return this.#findAnnounced(capabilityKey(capability), (p) => p.capabilities.includes(capability), options)
  }

  /** Announces `CHORUS:peer` once the node has DHT peers (again after each restart). */
  async announcePeer(signal: AbortSignal): Promise<void> {
    if (this.#peerAnnounced || this.#c.routingTableSize() === 0) return
    this.#peerAnnounced = true
    try {
      await this.#c.routing.provide(PEER_ANNOUNCE_KEY, { signal })
    } catch (err) {
      this.#peerAnnounced = false
      throw err
    }
  }

  /** One discovery round: providers of `CHORUS:peer` not refreshed lately are asked for their info. */
  async discover(signal: AbortSignal): Promise<void> {
    // a node that was joined by others (rather than bootstrapping itself) announces here; an
    // announcement no peer acknowledged is tried again next round and does not stop this one
    try {
      await this.announcePeer(signal)
    } catch (err) {
      signal.throwIfAborted()
      this.#c.logger.debug({ err: errorText(err) }, 'peer announcement not acknowledged; retried next round')
    }
    const providers = await this.#c.routing.findProviders(PEER_ANNOUNCE_KEY, {
      limit: MAX_DISCOVERED,
      signal
    })
    // peers refreshed within half an interval (by a lookup) are not asked again
    const fresh = Date.now() - this.#init.discoveryInterval / 2
    const self = this.#c.self().id
    const stale = providers.filter((p) => p.id !== self && (this.#peers.get(p.id)?.lastSeen ?? 0) < fresh)
    await Promise.all(stale.map((p) => this.#refreshPeer(p, signal)))
    this.#c.logger.debug({ providers: providers.length, known: this.#peers.size }, 'discovery round done')
  }

  /** Providers of an announcement key, completed with what each tells about itself. */
  async #findAnnounced(
    key: string,
    matches: (p: KnownPeer) => boolean,
    options: AbortOptions
  ): Promise<KnownPeer[]> {
    const providers = await this.#c.routing.findProviders(key, { limit: MAX_ANNOUNCED, ...options })
    const self = this.#c.self()
    const out = await Promise.all(
      providers.map(async (p): Promise<KnownPeer | undefined> => {
        if (p.id === self.id) return this.#selfAsKnown(self)
        let known = this.#peers.get(p.id)
        if (known == null || !matches(known)) known = (await this.#refreshPeer(p, options.signal)) ?? known
        if (known == null) return undefined
        if (p.multiaddrs.length > 0) known = { ...known, multiaddrs: p.multiaddrs }
        return known
      })
    )
    return out.filter((p): p is KnownPeer => p != null && matches(p))
  }

  /** Asks a peer for its role, capabilities and agent version and records the answer. */
  async #refreshPeer(peer: PeerInfo, signal?: AbortSignal): Promise<KnownPeer | undefined> {
    let bytes: Uint8Array
    try {
      bytes = await this.#c.request(peer, this.#protocol, new Uint8Array(0), {
        maxResponseBytes: PEER_INFO_MAX_BYTES,
        ...(signal != null ? { signal } : {})
      })
    } catch (err) {
      this.#c.logger.debug({ peer: peer.id, err: errorText(err) }, 'peer-info request failed')
      return undefined
    }
    let info: ReturnType<typeof decodePeerInfo>
    try {
      info = decodePeerInfo(bytes)
    } catch (err) {
      this.#c.onInvalidMessage?.(peer.id)
      this.#c.logger.debug({ peer: peer.id, err: errorText(err) }, 'peer-info answer cannot be decoded')
      return undefined
    }
    return this.#peers.upsert({ id: peer.id, multiaddrs: peer.multiaddrs, ...info })
  }

  #selfAsKnown(self: PeerInfo): KnownPeer {
    return {
      id: self.id,
      multiaddrs: self.multiaddrs,
      agentVersion: this.#self.agentVersion,
      role: this.#self.role ?? '',
      capabilities: [...this.#self.capabilities],
      lastSeen: Date.now()
    }
  }
}
