/**
 * The `DHT` contract: what storage, replication and hybrid depend on. `LibP2PDHT` implements it
 * over libp2p's Kademlia DHT and `createLocalDHT` in one process with persistent storage.
 *
 * Keys are strings such as `/CHORUS/ucxl/<digest>`; the first path segment is the record
 * namespace whose validator and selector every node of a network runs.
 */

export interface AbortOptions {
  /** Cancels the operation; it rejects with an `AbortError`-named error. */
  signal?: AbortSignal
}

/** A peer as the contract sees it: its id and the addresses it is known under. */
export interface PeerInfo {
  /** The peer id as a string (base58btc multihash, `12D3Koo…`). */
  id: string
  /** Multiaddrs as strings, possibly empty when only the id is known. */
  multiaddrs: string[]
}

export interface PutOptions extends AbortOptions {
  /**
   * Store only in this node's own record store and send nothing to peers. A local-only put
   * succeeds with zero acknowledgements. Default: false.
   */
  localOnly?: boolean
  /**
   * Resolve as soon as this many peers have acknowledged the PUT_VALUE, and let the rest finish
   * in the background. Default: wait for every peer the put was sent to.
   */
  minAcks?: number
}

export interface PutResult {
  /** The key that was written. */
  key: string
  /** Ids of the remote peers that acknowledged storing the value (never includes this node). */
  acks: string[]
  /** Whether this node's own record store holds the value. */
  storedLocally: boolean
}

export interface GetOptions extends AbortOptions {
  /**
   * Answer from the local record store only, without asking peers. Default: false.
   */
  localOnly?: boolean
}

/** One value for a key as received from one peer (or from this node's own store, `from: 'self'`). */
export interface ReceivedValue {
  value: Uint8Array
  /** The id of the peer that sent it, or `'self'` for this node's own record store. */
  from: string
}

export interface FindProvidersOptions extends AbortOptions {
  /** Stop after this many distinct providers. Default: 20. */
  limit?: number
}

export interface ProvideOptions extends AbortOptions {}

export interface ProvideResult {
  /** The key that was announced. */
  key: string
  /**
   * Ids of the remote peers that acknowledged the announcement: they were sent this node's
   * provider record and, asked back, list this node among the key's providers (never includes
   * this node). A `LibP2PDHT` provide that no peer acknowledged rejects instead; a `LocalDHT`
   * (no peers) and a `HybridDHT` that journaled the provide resolve with an empty list.
   */
  peers: string[]
}

export interface ClosestPeersOptions extends AbortOptions {
  /** How many peers to return at most. Default: 20 (Kademlia's k). */
  limit?: number
}

/**
 * The contract. Every method accepts `{ signal }`. Errors are typed (see `errors.ts`): a get
 * that finds nothing rejects with `NotFoundError`; a put that reached no peer (and was not
 * local-only) and a provide that no peer acknowledged reject with `NoPeersAcknowledgedError`
 * (`operation` says which), a node alone in its network included.
 */
export interface DHT {
  /** Validate, store locally, and send the value to the closest peers; reports real acknowledgements. */
  putValue(key: string, value: Uint8Array, options?: PutOptions): Promise<PutResult>
  /** The best value for the key by the namespace selector, local or remote. */
  getValue(key: string, options?: GetOptions): Promise<Uint8Array>
  /**
   * Every valid value received for the key, one entry per sender, so a caller can apply its own
   * checks (for example refuse a rolled-back version) instead of trusting one peer.
   */
  getValues(key: string, options?: GetOptions): Promise<ReceivedValue[]>
  /**
   * Announce that this node provides the key; reports the peers that acknowledged it (see
   * {@link ProvideResult}). This node always records itself as a provider first, so its own
   * `findProviders` lists it whether or not the announcement reached anyone.
   */
  provide(key: string, options?: ProvideOptions): Promise<ProvideResult>
  /** Peers that announced they provide the key, deduplicated, this node included when it provides. */
  findProviders(key: string, options?: FindProvidersOptions): Promise<PeerInfo[]>
  /** The peers closest to the key by XOR distance, as known to the network. */
  getClosestPeers(key: string, options?: ClosestPeersOptions): Promise<PeerInfo[]>
  /**
   * Drops this node's own stored record for the key (nothing is sent to the network); resolves
   * whether there was one. Optional: storage uses it to drop the versions a purging tombstone
   * deleted, and does without where a DHT lacks it.
   */
  removeLocal?(key: string, options?: AbortOptions): Promise<boolean>
  /**
   * Records in this node's own provider store, sending nothing, that `peers` (peer ids; this
   * node's own id allowed) provide the key: for a record a peer has just handed this node in full,
   * so both hold it. The node answers provider queries with them as if each had announced it.
   * Ids that do not decode are skipped. Optional: a DHT without a provider store lacks it.
   */
  noteProviders?(key: string, peers: readonly string[], options?: AbortOptions): Promise<void>
  /**
   * Whether the peer (this node's own id allowed) is a DHT server: one the rest of the network can
   * reach and find by a lookup, where a record must sit to be readable by everyone. A client (a
   * node behind NAT, mode `client`) is not. A `LibP2PDHT` answers from what it last heard of the
   * peer (identify: whether it serves the kad protocol; a peer it never heard of is not one) and,
   * for itself, from its own mode. Only a peer's own claim: a caller still decides who may hold
   * what by distance and proof. Optional: without it every peer counts as a server.
   */
  isDHTServer?(peer: string): boolean
}

/** A record validator: throws (any error) when the record must not be stored. */
export type RecordValidator = (key: Uint8Array, value: Uint8Array) => Promise<void> | void

/** A record selector: returns the index of the best record among several for one key. */
export type RecordSelector = (key: Uint8Array, records: Uint8Array[]) => number

/**
 * Whether a valid `incoming` record may replace the valid record this node `held` for one key.
 * Returns to let it replace; throws `StaleRecordError` to keep the held one at no cost to the
 * sender (an older record, which honest peers may hold), or `EquivocationError` when both are
 * valid but contradict each other (two different copies of one immutable version, a fork of a
 * chain): the held one stays and the author, not the sender, is charged.
 */
export type RecordSuccession = (key: Uint8Array, held: Uint8Array, incoming: Uint8Array) => void

/** Validators and selectors by namespace (`CHORUS` for keys `/CHORUS/...`). */
export interface RecordRules {
  validators: Record<string, RecordValidator>
  selectors: Record<string, RecordSelector>
  /**
   * Succession rules by namespace, run when a peer offers a record for a key this node already
   * holds (kad PUT_VALUE and the protocols that store records). Default: none, the selector
   * decides (`select([held, incoming]) === 0` keeps the held one).
   */
  succession?: Record<string, RecordSuccession>
}

/** What a peer proved about itself when it was admitted (see {@link PeerAdmission}). */
export interface AdmittedMember {
  /** The member's agent id. */
  agent: string
  /** The roles its certificate grants. */
  roles: string[]
  /** When its certificate stops being valid, ms since the Unix epoch. */
  notAfter: number
}

/**
 * The team's admission rule, given to a `LibP2PDHT` so that a peer proves its membership before
 * any CHORUS protocol serves it. The dht package only moves the bytes; `@chorus/team`'s policy
 * decides.
 */
export interface PeerAdmission {
  /** This node's own certificate (sent to every peer it connects to). */
  certificate(): Uint8Array
  /**
   * Decide on a peer: `peerKey` is the raw 32-byte Ed25519 public key of the peer's libp2p
   * identity (authenticated by the connection's Noise handshake), `certificate` what it sent.
   * Throws when the peer is not a member of this team.
   */
  admit(peerKey: Uint8Array, certificate: Uint8Array): AdmittedMember
}

/**
 * A request/response protocol between peers, for what the DHT itself does not carry (for example
 * `/CHORUS/replicate/1.0.0`). One length-prefixed request, one length-prefixed response.
 */
export type ProtocolHandler = (request: Uint8Array, from: PeerInfo) => Promise<Uint8Array>

export interface PeerMessaging {
  /** This node's peer id. */
  readonly peerId: string
  /** Serve a protocol. Re-registering a protocol replaces its handler. */
  handle(protocol: string, handler: ProtocolHandler, options?: { maxRequestBytes?: number }): Promise<void>
  unhandle(protocol: string): Promise<void>
  /** Send one request to a peer and wait for its response. */
  request(
    peer: string | PeerInfo,
    protocol: string,
    body: Uint8Array,
    options?: AbortOptions & { maxResponseBytes?: number }
  ): Promise<Uint8Array>
  /** Round-trip time to the peer in milliseconds; rejects when it is unreachable. */
  ping(peer: string | PeerInfo, options?: AbortOptions): Promise<number>
  /** Ids of the peers this node has an open connection to. */
  getConnectedPeers(): string[]
}

/** The narrow logger every package takes (`@chorus/common`'s); pino's logger fits it. Never give it secrets. */
export type { Logger } from '@chorus/common'

/**
 * Signs with this node's key (Ed25519, the libp2p peer key). Storage signs envelopes with it;
 * verifiers use the raw 32-byte `publicKey` with any Ed25519 implementation.
 */
export interface NodeSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  sign(data: Uint8Array, options?: AbortOptions): Promise<Uint8Array>
}
