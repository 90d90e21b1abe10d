/**
 * An in-process Kademlia network whose routing and lookups are @libp2p/kad-dht's own code:
 * every simulated node has kad-dht's `KBucket` trie as its routing table, kad-dht's
 * `QueryManager` for lookups (disjoint paths, alpha concurrency, path convergence) and its
 * `RoutingTableRefresh` for the periodic table refresh. Only the wire is simulated: a FIND_NODE
 * request is a function call that answers what kad-dht's FIND_NODE handler answers (the k closest
 * peers from the responder's routing table, excluding requester and responder), or fails at once
 * when the responder is dead (a real network would time out).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { compareDistance, sha256 } from './distance.js'
import type {
  KadInternals,
  KadPeer,
  KBucketInstance,
  QueryFunc,
  QueryManagerInstance,
  RefreshInstance
} from './kad-internals.js'
import { type LookupContext, runLookup } from './lookup.js'
import { createRandom, type Random } from './random.js'

export interface SimNetworkInit {
  /** Bucket size and result size, Kademlia's k. Default: 20 (kad-dht's KBUCKET_SIZE). */
  k?: number
  /** Requests in flight per path. Default: 3 (Kademlia's alpha; kad-dht itself defaults to 10). */
  alpha?: number
  /** Disjoint lookup paths. Default: 3 (kad-dht defaults to its alpha). */
  disjointPaths?: number
  /** Bits of the routing-table trie. Default: kad-dht's PREFIX_LENGTH (6). */
  prefixLength?: number
  /** Seed for the simulation's own choices (bootstrap peer, keys, who dies). Default: 1. */
  seed?: number
  /** Run one kad-dht table refresh on every node once all have joined. Default: true. */
  refresh?: boolean
  /** Called now and then while the network builds. */
  onProgress?: (done: number, total: number, phase: string) => void
}

export interface SimNode {
  index: number
  peerId: PeerId
  kadId: Uint8Array
  /** The first 32 bits of kadId, to compare distances without a byte loop most of the time. */
  prefix: number
  /** Mirror of the routing table's entries, kept by KBucket's onAdd/onRemove callbacks. */
  table: Set<SimNode>
  alive: boolean
  kb: KBucketInstance
  qm: QueryManagerInstance
  refresh: RefreshInstance
}

export interface LookupResult {
  /** The responding peers closest to the key, closest first, at most k. */
  closest: SimNode[]
  /** FIND_NODE requests sent, including those to dead peers. */
  messages: number
  /** Requests that failed because the peer was dead. */
  failed: number
  /** Distinct peers asked (kad-dht's QueryManager may ask one peer twice; the copy never does). */
  distinct: number
  /** Request rounds needed to reach the closest peer found: 1 = it was in our own table. */
  hops: number
  /** Deepest request round of the whole lookup. */
  rounds: number
  /** Simulated duration under the latency model of `lookup.ts` (NaN for the kad-dht engine). */
  timeMs: number
}

function prefix32(id: Uint8Array): number {
  return (((id[0] ?? 0) << 24) | ((id[1] ?? 0) << 16) | ((id[2] ?? 0) << 8) | (id[3] ?? 0)) >>> 0
}

const noopLog = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false })
const logger = { forComponent: () => noopLog }
// Every simulated peer is dialable; liveness is decided when the request is made.
const connectionManager = { isDialable: async () => true }

export class SimNetwork {
  readonly nodes: SimNode[] = []
  readonly k: number
  readonly alpha: number
  readonly disjointPaths: number
  readonly prefixLength: number
  private readonly byPeer = new Map<PeerId, SimNode>()
  /** The node that is joining, before it is in byPeer. */
  private readonly joining = new Map<PeerId, SimNode>()
  private readonly kad: KadInternals
  private readonly random: Random
  private readonly init: SimNetworkInit
  private pending = new Set<Promise<void>>()

  constructor(kad: KadInternals, init: SimNetworkInit = {}) {
    this.kad = kad
    this.init = init
    this.k = init.k ?? kad.defaults.k
    this.alpha = init.alpha ?? 3
    this.disjointPaths = init.disjointPaths ?? 3
    this.prefixLength = init.prefixLength ?? kad.defaults.prefixLength
    this.random = createRandom(init.seed ?? 1)
  }

  /**
   * Grows the network to `n` nodes the way a real one forms: nodes join one at a time, each
   * knowing one random earlier node, and run kad-dht's self-query (a lookup of their own id).
   * Every request makes the responder offer the requester to its own table (an inbound DHT
   * connection does that in kad-dht) and every response makes the requester offer the responder.
   * Then every node runs one round of kad-dht's routing-table refresh.
   */
  async build(n: number): Promise<void> {
    const progress = this.init.onProgress
    for (let i = this.nodes.length; i < n; i++) {
      const node = await this.createNode(i)
      this.joining.set(node.peerId, node)
      if (i > 0) {
        const bootstrap = this.nodes[this.random.int(i)]!
        await this.offer(node, bootstrap)
        await this.lookup(node, node.peerId.toMultihash().bytes)
      }
      this.nodes.push(node)
      this.byPeer.set(node.peerId, node)
      this.joining.delete(node.peerId)
      if (progress != null && (i + 1) % 100 === 0) progress(i + 1, n, 'join')
    }
    if (this.init.refresh ?? true) {
      for (const [i, node] of this.nodes.entries()) {
        const maxCpl = node.refresh._maxCommonPrefix()
        for (let cpl = 0; cpl <= maxCpl; cpl++) {
          await node.refresh._refreshCommonPrefixLength(cpl, new Date(0), true)
        }
        await this.settle()
        if (progress != null && (i + 1) % 100 === 0) progress(i + 1, n, 'refresh')
      }
    }
  }

  /**
   * Offers every node to every other node's routing table (KBucket's rules decide what stays):
   * the tables of a small network that has run long enough for everyone to meet everyone.
   */
  async completeTables(): Promise<void> {
    for (const node of this.nodes) {
      for (const peer of this.nodes) await this.offer(node, peer)
    }
  }

  /** Marks a random share of the live nodes dead (they stay in everyone's routing tables). */
  kill(fractionOfAll: number, keepAlive: ReadonlySet<SimNode> = new Set()): void {
    const target = Math.round(this.nodes.length * fractionOfAll)
    let dead = this.nodes.filter((n) => !n.alive).length
    const candidates = this.random.shuffle(this.nodes.filter((n) => n.alive && !keepAlive.has(n)))
    for (const node of candidates) {
      if (dead >= target) break
      node.alive = false
      dead++
    }
  }

  alive(): SimNode[] {
    return this.nodes.filter((n) => n.alive)
  }

  /** The true k live nodes closest to a kad id (brute force over the whole network). */
  trueClosest(kadId: Uint8Array, exclude?: SimNode): SimNode[] {
    return this.nodes
      .filter((n) => n.alive && n !== exclude)
      .sort((a, b) => compareDistance(kadId, a.kadId, b.kadId))
      .slice(0, this.k)
  }

  /** A random 32-byte content key (its kad id is its SHA-256, as kad-dht computes it). */
  randomKey(): Uint8Array {
    return this.random.bytes(32)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.random.int(items.length)]!
  }

  /**
   * A lookup (kad-dht's getClosestPeers) from `origin`, by this module's event-driven copy of
   * kad-dht's QueryManager and queryPath (see `lookup.ts`). Fast enough for thousands of nodes.
   */
  async lookup(origin: SimNode, key: Uint8Array): Promise<LookupResult> {
    return runLookup(this.lookupContext(), origin, key)
  }

  /**
   * The same lookup run by kad-dht's own QueryManager over simulated FIND_NODE calls. Slower
   * (its scalable cuckoo filter, async iterators and abort signals cost milliseconds per lookup),
   * so it cross-checks the fast copy on the smaller networks and in the tests.
   */
  async lookupWithKadDHT(origin: SimNode, key: Uint8Array): Promise<LookupResult> {
    const kadId = sha256(key)
    const depth = new Map<PeerId, number>()
    const responded: SimNode[] = []
    let messages = 0
    let failed = 0
    let rounds = 0
    const net = this
    // The peers QueryManager starts from (its own table's k closest) are one request away.
    for (const id of origin.kb.closest(kadId, { count: this.k })) depth.set(id, 1)
    const asked = new Set<PeerId>()
    const findNode: QueryFunc = async function* (this: void, { peer }) {
      messages++
      asked.add(peer.id)
      const d = depth.get(peer.id) ?? 1
      rounds = Math.max(rounds, d)
      const target = net.byPeer.get(peer.id)
      if (target == null || !target.alive) {
        failed++
        throw new Error('peer did not answer')
      }
      // The responder sees an inbound DHT connection from the origin and offers it to its table.
      net.track(net.offer(target, origin))
      const closer = [
        ...target.kb.closest(kadId, { count: net.k, exclude: [origin.peerId, target.peerId] })
      ].map((id) => net.byPeer.get(id)!)
      for (const other of closer) {
        if ((depth.get(other.peerId) ?? Number.POSITIVE_INFINITY) > d + 1) depth.set(other.peerId, d + 1)
      }
      yield net.kad.peerResponseEvent({
        from: peer.id,
        messageType: 4, // FIND_NODE in kad-dht's protobuf
        closer: closer.map((other) => ({ id: other.peerId, multiaddrs: [] }))
      })
      responded.push(target)
    }
    for await (const _event of origin.qm.run(key, findNode, { signal: AbortSignal.timeout(120_000) })) {
      // QueryManager itself queues each responder for the origin's routing table.
    }
    await this.settle()
    // kad-dht can query a peer twice: two responses naming it are checked against the seen-filter
    // before either queues it (there are awaits in between). Its getClosestPeers deduplicates the
    // result (PeerDistanceList); so does this.
    const closest = [...new Set(responded)]
      .sort((a, b) => compareDistance(kadId, a.kadId, b.kadId))
      .slice(0, this.k)
    const first = closest[0]
    const hops = first == null ? 0 : (depth.get(first.peerId) ?? 1)
    return { closest, messages, failed, distinct: asked.size, hops, rounds, timeMs: Number.NaN }
  }

  /**
   * What kad-dht's FIND_NODE handler answers: the k entries of `node`'s routing table closest to
   * `kadId` (KBucket.closest), without the requester. Computed over the real table's entries
   * with precomputed ids, which gives the same set as KBucket.closest at a fraction of its cost.
   */
  closestInTable(node: SimNode, kadId: Uint8Array, exclude?: SimNode): SimNode[] {
    const target = prefix32(kadId)
    const best: SimNode[] = []
    const dist: number[] = []
    const closer = (a: SimNode, da: number, i: number): boolean => {
      const db = dist[i]!
      return da !== db ? da < db : compareDistance(kadId, a.kadId, best[i]!.kadId) < 0
    }
    for (const other of node.table) {
      if (other === exclude) continue
      const d = (other.prefix ^ target) >>> 0
      if (best.length === this.k && !closer(other, d, best.length - 1)) continue
      let i = best.length
      while (i > 0 && closer(other, d, i - 1)) i--
      best.splice(i, 0, other)
      dist.splice(i, 0, d)
      if (best.length > this.k) {
        best.pop()
        dist.pop()
      }
    }
    return best
  }

  private lookupContext(): LookupContext {
    return {
      k: this.k,
      alpha: this.alpha,
      disjointPaths: this.disjointPaths,
      random: this.random,
      closestInTable: (node, kadId, exclude) => this.closestInTable(node, kadId, exclude),
      offer: (node, peer) => this.offer(node, peer)
    }
  }

  /** Routing-table entries per node. */
  tableSizes(): number[] {
    return this.nodes.map((n) => n.kb.count())
  }

  async stop(): Promise<void> {
    await this.settle()
    for (const node of this.nodes) await node.qm.stop()
  }

  private async createNode(index: number): Promise<SimNode> {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const net = this
    const kb = new this.kad.KBucket(
      { peerId },
      {
        kBucketSize: this.k,
        prefixLength: this.prefixLength,
        metricsPrefix: 'sim',
        // A new contact is added once it answers a ping; a full bucket evicts old contacts that do not.
        onAdd: async (contact: KadPeer) => {
          const other = net.byPeer.get(contact.peerId) ?? net.joining.get(contact.peerId)
          if (other != null) node.table.add(other)
        },
        onRemove: async (contact: KadPeer) => {
          const other = net.byPeer.get(contact.peerId) ?? net.joining.get(contact.peerId)
          if (other != null) node.table.delete(other)
        },
        verify: async (contact: KadPeer) => net.byPeer.get(contact.peerId)?.alive ?? true,
        ping: async function* (oldContacts: KadPeer[]) {
          for (const contact of oldContacts) {
            if (net.byPeer.get(contact.peerId)?.alive === false) yield contact
          }
        }
      }
    )
    await kb.start()
    const routingTable = {
      get size() {
        return kb.count()
      },
      kBucketSize: this.k,
      closestPeers: (id: Uint8Array, options?: { count?: number }) => [...kb.closest(id, options)],
      queueRoutingTableUpdate: (peer: PeerId) => {
        const other = net.byPeer.get(peer)
        if (other != null) net.track(net.offer(node, other))
      }
    }
    const qm = new this.kad.QueryManager(
      { peerId, logger, connectionManager },
      { routingTable, disjointPaths: this.disjointPaths, alpha: this.alpha, logPrefix: 'sim' }
    )
    await qm.start()
    const refresh = new this.kad.RoutingTableRefresh(
      { logger },
      {
        logPrefix: 'sim',
        routingTable: {
          kb,
          get size() {
            return kb.count()
          }
        },
        peerRouting: {
          getClosestPeers: async function* (key: Uint8Array) {
            const result = await net.lookup(node, key)
            yield* result.closest
          }
        }
      }
    )
    const kadId = kb.localPeer!.kadId
    const node: SimNode = {
      index,
      peerId,
      kadId,
      prefix: prefix32(kadId),
      table: new Set(),
      alive: true,
      kb,
      qm,
      refresh
    }
    return node
  }

  /** Offers `peer` to `node`'s routing table through KBucket's own insertion rules. */
  async offer(node: SimNode, peer: SimNode): Promise<void> {
    // Already in the table: KBucket's _add would return at once, so skip its bucket walk.
    if (node === peer || node.table.has(peer)) return
    await node.kb._add({ peerId: peer.peerId, kadId: peer.kadId, lastPing: 0 })
  }

  private track(p: Promise<void>): void {
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  private async settle(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending]
      this.pending = new Set()
      await Promise.all(batch)
    }
  }
}
