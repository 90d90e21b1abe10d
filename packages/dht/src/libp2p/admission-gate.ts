/**
 * The part of admission that exists before the libp2p node does: the peers refused a while ago
 * (the deny set) and whether admission runs yet, as a libp2p connection gater and a kad-dht peer
 * info mapper. The node is built with both; `Admission` (admission.ts) fills the deny set.
 */
import type { ConnectionGater, PeerInfo as Libp2pPeerInfo, PeerId } from '@libp2p/interface'

/** Most refused peers remembered at once; the one refused longest ago is forgotten first. */
export const ADMISSION_MAX_DENIED = 10_000

export interface AdmissionGateInit {
  /** How long a refused peer stays refused, in ms. */
  denyPeriod: number
  /** Most refused peers remembered. Default: `ADMISSION_MAX_DENIED`. */
  maxDenied?: number
  /** Clock in ms (tests). Default: `Date.now`. */
  now?: () => number
}

/**
 * The deny set of refused peers and the gate that keeps every connection out until admission runs.
 *
 * - `gater`: refuses dials to and connections from refused peers (after the Noise handshake, the
 *   first moment a peer id is known), and every connection while admission is not running (between
 *   the node's start and the moment every CHORUS protocol is guarded, and after stop).
 * - `mapPeerInfo`: kad-dht's `peerInfoMapper`. A refused peer is given no addresses, so kad-dht
 *   neither names it in the closest peers and providers it answers nor adds it to its routing
 *   table when it connects.
 */
export class AdmissionGate {
  readonly #denyPeriod: number
  readonly #max: number
  readonly #now: () => number
  /** Refused peer -> until when (ms); insertion order is refusal order. */
  readonly #denied = new Map<string, number>()
  #open = false

  constructor(init: AdmissionGateInit) {
    if (!(init.denyPeriod > 0 && Number.isFinite(init.denyPeriod))) {
      throw new RangeError(`denyPeriod must be a positive finite number, got ${String(init.denyPeriod)}`)
    }
    this.#denyPeriod = init.denyPeriod
    this.#max = Math.max(1, Math.floor(init.maxDenied ?? ADMISSION_MAX_DENIED))
    this.#now = init.now ?? Date.now
  }

  /** Lets connections in (admission runs: every CHORUS protocol is guarded). */
  open(): void {
    this.#open = true
  }

  /** Keeps every connection out (admission stopped). */
  close(): void {
    this.#open = false
  }

  get isOpen(): boolean {
    return this.#open
  }

  /** Refuses the peer for the deny period (from now). */
  deny(peer: string): void {
    this.#denied.delete(peer)
    this.#denied.set(peer, this.#now() + this.#denyPeriod)
    while (this.#denied.size > this.#max) {
      const oldest = this.#denied.keys().next().value
      if (oldest === undefined) break
      this.#denied.delete(oldest)
    }
  }

  /** Whether the peer was refused within the deny period. */
  isDenied(peer: string): boolean {
    const until = this.#denied.get(peer)
    if (until === undefined) return false
    if (until > this.#now()) return true
    this.#denied.delete(peer)
    return false
  }

  /** Peers refused right now. */
  get deniedNow(): number {
    const t = this.#now()
    let n = 0
    for (const until of this.#denied.values()) if (until > t) n++
    return n
  }

  /** kad-dht's `peerInfoMapper`: a refused peer without addresses (kad-dht then leaves it out). */
  mapPeerInfo(info: Libp2pPeerInfo): Libp2pPeerInfo {
    return this.isDenied(info.id.toString()) ? { id: info.id, multiaddrs: [] } : info
  }

  readonly gater: ConnectionGater = {
    denyDialPeer: (peer: PeerId) => !this.#open || this.isDenied(peer.toString()),
    denyInboundEncryptedConnection: (peer: PeerId) => !this.#open || this.isDenied(peer.toString()),
    denyOutboundEncryptedConnection: (peer: PeerId) => !this.#open || this.isDenied(peer.toString()),
    denyInboundUpgradedConnection: (peer: PeerId) => !this.#open || this.isDenied(peer.toString()),
    denyOutboundUpgradedConnection: (peer: PeerId) => !this.#open || this.isDenied(peer.toString())
  }
}
