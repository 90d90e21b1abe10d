/**
 * The public face of `LibP2PDHT`: what `createLibP2PDHT` returns (the facade in libp2p-dht.ts
 * implements it), its statistics and the penalties other packages may charge.
 */
import type {
  AbortOptions,
  AdmittedMember,
  DHT,
  NodeSigner,
  PeerMessaging,
  ProvideResult
} from '../contract.js'
import type { PeerReputation } from '../reputation/reputation.js'
import type { AdmissionStats } from './admission.js'
import type { ChorusLibp2p } from './node.js'
import type { KnownPeer } from './peer-table.js'
import type { ReachabilityStats } from './reachability.js'

/** `getStats()` result. */
export interface DHTStats {
  /** Peers with an open connection. */
  totalPeers: number
  /** Records in this node's own record store. */
  totalKeys: number
  /** Milliseconds since start (0 when stopped). */
  uptime: number
  /** Peers in the Kademlia routing table. */
  routingTableSize: number
  /** Entries of the known-peer table (roles and capabilities). */
  knownPeers: number
  mode: 'client' | 'server'
  bootstrapped: boolean
  /** Equivocations refused since start: two valid records of one author that contradict each other. */
  equivocations: number
  /** Admission figures; absent without `init.admission`. */
  admission?: AdmissionStats
  /** Reachability (NAT detection), relayed connections and their upgrades to direct ones. */
  reachability: ReachabilityStats
}

/** The penalties other packages may charge a peer with for what their own edges find. */
export type PeerPenalty = 'invalid-message' | 'bogus-provider' | 'invalid-record'

/** The contract, peer messaging and CHORUS discovery on one libp2p node. */
export interface LibP2PDHT extends DHT, PeerMessaging {
  readonly peerId: string
  /** Multiaddrs (with `/p2p/<id>`) peers can dial; empty when stopped. */
  readonly multiaddrs: string[]
  /** Signs with the node's Ed25519 peer key. */
  readonly signer: NodeSigner
  /** The peer reputation system this node enforces; undefined when `init.reputation` is false. */
  readonly reputation: PeerReputation | undefined
  /** The underlying libp2p node (advanced use; do not stop it directly). */
  readonly libp2p: ChorusLibp2p
  /** Starts the node (idempotent). `createLibP2PDHT` does it unless `init.start` is false. */
  start(): Promise<void>
  /** Stops background tasks and the node and closes the datastore (idempotent); `start()` again to resume. */
  stop(): Promise<void>
  /** Same as `stop()`: leaves no timer, socket or open database behind. */
  close(): Promise<void>
  /**
   * Connects to the bootstrap peers (`options.peers`, else `init.bootstrapPeers`), waits for a DHT
   * server in the routing table and looks up this node's neighbourhood. Rejects with
   * `BootstrapError` when nothing answered within `bootstrapTimeout`. With no peers it does nothing.
   */
  bootstrap(options?: AbortOptions & { peers?: string[] }): Promise<void>
  /** Whether the node takes part in a DHT (its routing table holds at least one peer). */
  isBootstrapped(): boolean
  /**
   * Whether the peer is a DHT server: it serves the kad protocol as last heard by identify (false
   * for a peer never heard of); for this node's own id, whether it runs in server mode.
   */
  isDHTServer(peer: string): boolean
  /** Records (or refreshes) a peer in the known-peer table. */
  registerPeer(peerId: string, agentVersion: string, role: string, capabilities: string[]): void
  /**
   * Announces this node's role (`CHORUS:role:<role>` provider record) and serves it to peers;
   * reports the peers that acknowledged the role's record (`NoPeersAcknowledgedError` when none
   * did). `CHORUS:peer` is announced along, best effort.
   */
  announceRole(role: string, options?: AbortOptions): Promise<ProvideResult>
  /** Announces a capability (`CHORUS:capability:<cap>` provider record); as `provide`. */
  announceCapability(capability: string, options?: AbortOptions): Promise<ProvideResult>
  /** Peers that announced the role, with what they tell about themselves. */
  findPeersByRole(role: string, options?: AbortOptions): Promise<KnownPeer[]>
  /** Peers that announced the capability. */
  findPeersByCapability(capability: string, options?: AbortOptions): Promise<KnownPeer[]>
  /** The known-peer table (filled by discovery, lookups and `registerPeer`). */
  getKnownPeers(): KnownPeer[]
  getStats(): Promise<DHTStats>
  /** Size of the Kademlia routing table. */
  getDHTSize(): number
  /**
   * What the peer proved when it was admitted (`init.admission`); undefined while it is not
   * admitted (pending, refused, disconnected, its certificate expired) and always without admission.
   */
  admittedPeer(peerId: string): AdmittedMember | undefined
  /** The peers admitted right now, with what each proved; empty without admission. */
  admittedPeers(): Array<{ peer: string } & AdmittedMember>
  /**
   * Hangs up on a peer the team no longer admits (a revoked member), takes it out of the routing
   * table and denies it for the deny period, after which admission decides again. Returns false
   * when the peer is neither admitted nor connected, and always without admission.
   */
  expel(peerId: string): boolean
  /**
   * Charges a peer for a message its edge found malformed (`invalid-message`), a provider record
   * it had no business announcing (`bogus-provider`) or a record it sent that a validator refused
   * (`invalid-record`), so replication and storage feed the same reputation system. A no-op without
   * the reputation system or for a string that is not a peer id.
   */
  penalise(peer: string, reason: PeerPenalty): void
}
