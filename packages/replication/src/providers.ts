/**
 * The provider cache: which peers may hold each key. It merges the DHT's provider records with
 * what this node saw itself (pushes it made, replicas it received with their co-holders, earlier
 * lookups), liveness-checks them, and keeps them in the store with a TTL and a per-key cap. Each
 * is a candidate: `proven` says whether its last proof of possession (see `possession.ts`) is for
 * the value given and recent enough; nothing else makes a peer a holder.
 */
import { errorText, type Logger } from '@chorus/common'
import { type DHT, keyPeerDistance, log2Distance, sortByDistance } from '@chorus/dht'
import type { ReplicationConfig } from './config.js'
import type { ReplicationCounters } from './metrics.js'
import { sameDigest } from './proof.js'
import type { ReplicationStore } from './store.js'
import type { ProviderInfo } from './types.js'

/** What the cache needs of the liveness checks. */
export interface LivenessCheck {
  isLive(peer: string, signal: AbortSignal): Promise<boolean>
  /** Drops results older than `maxAge`. */
  prune(maxAge: number): void
}

export interface ProviderCacheComponents {
  dht: Pick<DHT, 'findProviders'>
  /** This node's peer id. */
  peerId: string
  /** The open store, or undefined while stopped. */
  store: () => ReplicationStore | undefined
  /** Whether this node holds (pins) the key. */
  holds: (key: string) => boolean
  liveness: LivenessCheck
  counters: Pick<ReplicationCounters, 'providerLookups' | 'lastCleanupTime'>
  log: Logger
}

export type ProviderCacheInit = Pick<
  ReplicationConfig,
  'maxProvidersPerKey' | 'replicationFactor' | 'providerTTL' | 'proofTTL'
>

/** The longest a seen provider or a proof waits before it is written again (see `refreshAfter`). */
const REFRESH_AT_MOST_MS = 60_000

/**
 * How stale a provider's `last_seen`, or a proof's time, may get before seeing it again writes
 * it: a tenth of the TTL that reads it, at most a minute. The sweep confirms every holder of
 * every key each pass; writing each confirmation was most of an idle node's work.
 */
export const refreshAfter = (ttl: number): number => Math.min(REFRESH_AT_MOST_MS, ttl / 10)

export class ProviderCache {
  private readonly components: ProviderCacheComponents
  private readonly init: ProviderCacheInit

  constructor(components: ProviderCacheComponents, init: ProviderCacheInit) {
    this.components = components
    this.init = init
  }

  /** Records `peer` as a candidate provider of `key`, seen at `at`. */
  touch(key: string, peer: string, at = Date.now()): void {
    this.components.store()?.touchProvider(key, peer, at, false, this.seenRefresh())
  }

  private seenRefresh(): number {
    return refreshAfter(this.init.providerTTL)
  }

  private proofRefresh(): number {
    return refreshAfter(this.init.proofTTL)
  }

  /**
   * Records peers named as holders of `key` (a pusher and the holders it names) as candidates:
   * known ones are refreshed, new ones added only while the key has fewer than twice
   * `maxProvidersPerKey` entries, so that names in pushes cannot grow the table without bound.
   */
  nominate(key: string, peers: string[], at = Date.now()): void {
    const store = this.components.store()
    if (store == null) return
    const known = new Set(store.providers(key).map((r) => r.peer))
    let room = 2 * this.init.maxProvidersPerKey - known.size
    for (const peer of new Set(peers)) {
      if (!known.has(peer) && room-- <= 0) continue
      store.touchProvider(key, peer, at, false, this.seenRefresh())
    }
  }

  /** Records that `peer` holds the value of `key` whose digest is `digest` (it accepted a push of it). */
  proven(key: string, peer: string, digest: Uint8Array, at = Date.now()): void {
    this.components.store()?.recordProof(key, peer, digest, at, this.proofRefresh())
  }

  /**
   * Peers with a proof of possession for the key within `proofTTL`, most recent first, this node
   * left out (at most twice max(`maxProvidersPerKey`, `replicationFactor`)).
   */
  knownHolders(key: string): string[] {
    const now = Date.now()
    const max = 2 * Math.max(this.init.maxProvidersPerKey, this.init.replicationFactor)
    return (this.components.store()?.providers(key) ?? [])
      .filter(
        (r) =>
          r.peer !== this.components.peerId && r.provenAt != null && now - r.provenAt <= this.init.proofTTL
      )
      .sort((a, b) => (b.provenAt ?? 0) - (a.provenAt ?? 0))
      .slice(0, max)
      .map((r) => r.peer)
  }

  /** Remote provider entries of the key seen within `providerTTL`. */
  cached(key: string): number {
    const now = Date.now()
    return (this.components.store()?.providers(key) ?? []).filter(
      (r) => r.peer !== this.components.peerId && now - r.lastSeen <= this.init.providerTTL
    ).length
  }

  /** Peers that once proved they held some version of the key (to send a new version to). */
  provenPeers(key: string): Set<string> {
    return new Set(this.components.store()?.provenPeers(key) ?? [])
  }

  /**
   * Providers of the key, each liveness-checked: live ones with a current proof for `digest`
   * first, then the other live ones, then the rest, each group closest to the key first, at most
   * max(`maxProvidersPerKey`, `replicationFactor`); this node among them when it holds the key.
   * With `network` the DHT is asked too (at most `limit` providers). Without `digest` no remote
   * provider is proven.
   */
  async lookup(
    key: string,
    signal: AbortSignal,
    network = true,
    limit = this.init.maxProvidersPerKey,
    digest?: Uint8Array
  ): Promise<ProviderInfo[]> {
    const { peerId: self, store: storeOf, liveness, log, counters } = this.components
    const c = this.init
    const now = Date.now()
    const store = storeOf()
    const ids = new Set<string>()
    if (network) {
      counters.providerLookups++
      try {
        // no extra timeout here: on its own query timeout the DHT answers with what it found
        const found = await this.components.dht.findProviders(key, { limit, signal })
        for (const p of found) {
          ids.add(p.id)
          // the peer announced itself: a claim it must back with a proof
          if (p.id !== self) store?.touchProvider(key, p.id, now, true)
        }
      } catch (err) {
        if (signal.aborted) throw err
        log.debug({ key, err: errorText(err) }, 'replication: provider lookup failed')
      }
    }
    const known = store?.providers(key) ?? []
    for (const p of known) if (now - p.lastSeen <= c.providerTTL) ids.add(p.peer)
    if (this.components.holds(key)) ids.add(self)
    else ids.delete(self)
    const max = Math.max(c.maxProvidersPerKey, c.replicationFactor)
    // check a few more than reported, so dead providers close to the key do not hide live ones
    const checked = sortByDistance(key, [...ids]).slice(0, 3 * max)
    const alive = await Promise.all(checked.map((p) => (p === self ? true : liveness.isLive(p, signal))))
    const liveSet = new Set(checked.filter((_, i) => alive[i] === true))
    const rows = new Map((store?.providers(key) ?? []).map((r) => [r.peer, r]))
    const provenSet = new Set(
      checked.filter((p) => {
        if (p === self) return true
        const row = rows.get(p)
        return (
          digest != null &&
          row?.provenAt != null &&
          now - row.provenAt <= c.proofTTL &&
          sameDigest(row.proofDigest, digest)
        )
      })
    )
    const rank = (p: string): number => (liveSet.has(p) ? (provenSet.has(p) ? 0 : 1) : 2)
    // a stable sort keeps the XOR order within each group
    const ordered = [...checked].sort((a, b) => rank(a) - rank(b)).slice(0, max)
    return ordered.map((peerId) => {
      const d = keyPeerDistance(key, peerId)
      const row = rows.get(peerId)
      const peer = peerId === self ? undefined : store?.getPeer(peerId)
      return {
        peerId,
        addedAt: new Date(row?.addedAt ?? now),
        lastSeen: new Date(peerId === self ? Date.now() : (peer?.lastSeen ?? row?.lastSeen ?? now)),
        quality: peerId === self ? 1 : (peer?.quality ?? 0.5),
        distance: log2Distance(d),
        xorDistance: d.toString(16).padStart(64, '0'),
        live: liveSet.has(peerId),
        proven: provenSet.has(peerId)
      }
    })
  }

  /** Drops provider entries older than `providerTTL` and keeps at most `maxProvidersPerKey` per key. */
  cleanup(): void {
    const store = this.components.store()
    if (store == null) return
    const now = Date.now()
    const expired = store.expireProviders(now - this.init.providerTTL)
    const capped = store.capProviders(this.init.maxProvidersPerKey)
    this.components.liveness.prune(this.init.providerTTL)
    this.components.counters.lastCleanupTime = new Date(now)
    this.components.log.debug({ expired, capped }, 'replication: provider cleanup')
  }
}
