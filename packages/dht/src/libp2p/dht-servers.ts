/**
 * Which peers are DHT servers: those whose identify (or identify push) lists the kad protocol.
 * kad-dht serves its protocol only in server mode and withdraws it when a node turns client (a
 * node behind NAT, mode `auto`), and libp2p pushes that change to connected peers, so the last
 * protocol list heard of a peer says whether the rest of the network can reach and look it up.
 * Kept in memory for the most recently heard peers; a peer never heard of is not a server.
 */
import type { PeerUpdate } from '@libp2p/interface'
import type { ChorusLibp2p } from './node.js'

/** Peers whose last protocol list is kept (the oldest heard of are forgotten first). */
const MAX_PEERS = 4096

export interface DHTServerTableComponents {
  node: ChorusLibp2p
}

export interface DHTServerTableInit {
  /** The kad protocol (`${protocolPrefix}/kad/1.0.0`). */
  kadProtocol: string
}

export class DHTServerTable {
  readonly #c: DHTServerTableComponents
  readonly #init: DHTServerTableInit
  /** Peer id -> whether its last protocol list included the kad protocol. */
  readonly #servers = new Map<string, boolean>()
  #undo: (() => void) | undefined

  constructor(components: DHTServerTableComponents, init: DHTServerTableInit) {
    this.#c = components
    this.#init = init
  }

  /** Whether the peer serves the kad protocol as last heard (false when never heard of). */
  isServer(peer: string): boolean {
    return this.#servers.get(peer) === true
  }

  async start(): Promise<void> {
    const { node } = this.#c
    // identify and identify push update the peer store, which reports every change here
    const onUpdate = (evt: CustomEvent<PeerUpdate>): void => {
      const { peer } = evt.detail
      this.#note(peer.id.toString(), peer.protocols.includes(this.#init.kadProtocol))
    }
    node.addEventListener('peer:update', onUpdate)
    this.#undo = () => node.removeEventListener('peer:update', onUpdate)
    // peers identified before start (the node starts first)
    const known = await node.peerStore.all({ limit: MAX_PEERS }).catch(() => [])
    for (const peer of known) {
      if (peer.protocols.length > 0)
        this.#note(peer.id.toString(), peer.protocols.includes(this.#init.kadProtocol))
    }
  }

  async stop(): Promise<void> {
    this.#undo?.()
    this.#undo = undefined
    this.#servers.clear()
  }

  #note(peer: string, server: boolean): void {
    this.#servers.delete(peer)
    this.#servers.set(peer, server)
    if (this.#servers.size > MAX_PEERS) this.#servers.delete(this.#servers.keys().next().value!)
  }
}
