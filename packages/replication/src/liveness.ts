/**
 * Peer liveness and reachability quality. A peer is live when this node has an open connection to
 * it or it answers a ping; observations feed each peer's quality (an EWMA) in the store.
 */
import { errorText, type Logger, timeoutSignal } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import { decodeResponse, encodePing, MAX_PING_RESPONSE_BYTES } from './protocol.js'
import type { ReplicationStore } from './store.js'

export interface LivenessComponents {
  messaging: Pick<PeerMessaging, 'ping' | 'request' | 'getConnectedPeers'>
  log: Logger
  /** The open store, or undefined while stopped (observations are then kept in memory only). */
  store: () => ReplicationStore | undefined
  /** Aborts probes on shutdown. */
  signal: () => AbortSignal | undefined
}

export interface LivenessInit {
  /** The replicate protocol id (its ping is the fallback of libp2p's). */
  protocol: string
  livenessTTL: number
  requestTimeout: number
}

export class PeerLiveness {
  private readonly init: LivenessInit & LivenessComponents
  private readonly results = new Map<string, { ok: boolean; at: number }>()
  private readonly pings = new Map<string, Promise<boolean>>()
  private readonly written = new Map<string, { ok: boolean; at: number }>()
  private connectedCache: { at: number; peers: Set<string> } | undefined

  constructor(components: LivenessComponents, init: LivenessInit) {
    this.init = { ...components, ...init }
  }

  /** Whether the last observation (within `livenessTTL`) found the peer unreachable. */
  knownDown(peer: string): boolean {
    const l = this.results.get(peer)
    return l != null && !l.ok && Date.now() - l.at < this.init.livenessTTL
  }

  /** Forgets the cached result, so the next check probes again. */
  forget(peer: string): void {
    this.results.delete(peer)
  }

  /** Drops results older than `maxAge`. */
  prune(maxAge: number): void {
    const now = Date.now()
    for (const [peer, l] of this.results) if (now - l.at > maxAge) this.results.delete(peer)
  }

  clear(): void {
    this.results.clear()
    this.written.clear()
    this.connectedCache = undefined
  }

  /**
   * Whether the peer is reachable: it has an open connection to this node (libp2p's connection
   * monitor closes connections whose peer stops answering, and a stopped node's connections close
   * at once), or it answers a ping. A failed check is reused for `livenessTTL`; concurrent checks
   * share one ping. Under heavy load a ping can time out although the peer is fine, so an open
   * connection counts first.
   */
  async isLive(peer: string, signal: AbortSignal): Promise<boolean> {
    if (this.connected().has(peer)) {
      this.note(peer, true)
      return true
    }
    // Every positive observation was made over a connection; with that connection gone the peer
    // may have stopped, so only a negative result is reused and a positive one is checked again.
    const cached = this.results.get(peer)
    if (cached != null && !cached.ok && Date.now() - cached.at < this.init.livenessTTL) return false
    let p = this.pings.get(peer)
    if (p == null) {
      p = this.probe(peer)
        .then((ok) => {
          this.note(peer, ok)
          return ok
        })
        .finally(() => this.pings.delete(peer))
      this.pings.set(peer, p)
    }
    const ok = await p
    signal.throwIfAborted()
    return ok
  }

  /** Connected peer ids, refreshed at most every 100 ms (a lookup checks many providers at once). */
  connected(): Set<string> {
    const now = Date.now()
    if (this.connectedCache == null || now - this.connectedCache.at > 100) {
      this.connectedCache = { at: now, peers: new Set(this.init.messaging.getConnectedPeers()) }
    }
    return this.connectedCache.peers
  }

  /**
   * Pings the peer; when libp2p's ping fails (its service allows one outbound and two inbound
   * streams per connection, which kad-dht's own pings compete for) asks our protocol instead.
   */
  private async probe(peer: string): Promise<boolean> {
    const signal = (): AbortSignal => timeoutSignal(this.init.requestTimeout, this.init.signal())
    let pingError: unknown
    try {
      await this.init.messaging.ping(peer, { signal: signal() })
      return true
    } catch (err) {
      pingError = err
    }
    try {
      const res = decodeResponse(
        await this.init.messaging.request(peer, this.init.protocol, encodePing(), {
          signal: signal(),
          maxResponseBytes: MAX_PING_RESPONSE_BYTES
        })
      )
      return res.ok
    } catch (err) {
      this.init.log.debug(
        { peer, ping: errorText(pingError), request: errorText(err) },
        'replication: peer unreachable'
      )
      return false
    }
  }

  /** Records a reachability observation: quality is an EWMA (weight 0.3) of successes. */
  note(peer: string, ok: boolean): void {
    const now = Date.now()
    this.results.set(peer, { ok, at: now })
    // an unchanged observation within a second adds nothing worth a write
    const last = this.written.get(peer)
    if (last != null && last.ok === ok && now - last.at < 1000) return
    this.written.set(peer, { ok, at: now })
    const store = this.init.store()
    if (store == null) return
    const prev = store.getPeer(peer)
    const quality = (prev?.quality ?? 0.5) * 0.7 + (ok ? 0.3 : 0)
    store.putPeer({ peer, quality, lastSeen: ok ? now : prev?.lastSeen })
  }
}
