/**
 * A provider's quality, 0..1: how far this node can count on the peer for a key, from what it
 * observed itself, never from what the peer says:
 * - reachability: the EWMA of this node's attempts to reach the peer (liveness checks, pushes),
 *   0.5 before any;
 * - proof history for the key: 1 when the peer proved within `proofTTL` that it holds the value,
 *   0 when its last challenge for the key failed, 0.5 when untested;
 * - reputation: 0 for a banned peer, else 1 minus its penalty points over 100 (the reputation
 *   system's default ban threshold), 1 without a reputation system.
 *
 * quality = reputation × (reachability + proof) / 2; this node is 1.
 */
import type { ReplicationReputation } from './api.js'
import type { ReplicationStore } from './store.js'
import type { ProviderInfo } from './types.js'

/** Penalty points that make the reputation factor 0 (`PeerReputation`'s default ban threshold). */
const PENALTY_SCALE = 100

export type ProofHistory = 'proven' | 'failed' | 'untested'

export interface QualityInputs {
  /** 0..1 */
  reachability: number
  proof: ProofHistory
  /** 0..1 */
  reputation: number
}

const clamp = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0)

export function providerQuality(i: QualityInputs): number {
  const proof = i.proof === 'proven' ? 1 : i.proof === 'failed' ? 0 : 0.5
  return clamp(clamp(i.reputation) * ((clamp(i.reachability) + proof) / 2))
}

/** The reputation factor of `peer`: 0 when banned, 1 minus its points over 100, 1 when unknown. */
export function reputationFactor(reputation: ReplicationReputation | undefined, peer: string): number {
  if (reputation?.isBanned?.(peer) === true) return 0
  const points = reputation?.score?.(peer)
  return points == null ? 1 : clamp(1 - points / PENALTY_SCALE)
}

/** Best first: higher quality, then closer to the key (exact XOR distance). */
export function byQualityThenDistance(a: ProviderInfo, b: ProviderInfo): number {
  if (a.quality !== b.quality) return b.quality - a.quality
  return a.xorDistance < b.xorDistance ? -1 : a.xorDistance > b.xorDistance ? 1 : 0
}

export interface QualityComponents {
  /** This node's peer id. */
  peerId: string
  store: () => Pick<ReplicationStore, 'getPeer'> | undefined
  /** Whether the peer's last challenge for the key failed (within `proofTTL`). */
  challengeFailed(key: string, peer: string): boolean
  reputation?: ReplicationReputation | undefined
}

/** Sets each provider's `quality` (in place) from this node's observations; returns the list. */
export function rateProviders(c: QualityComponents, key: string, providers: ProviderInfo[]): ProviderInfo[] {
  const store = c.store()
  for (const p of providers) {
    if (p.peerId === c.peerId) {
      p.quality = 1
      continue
    }
    p.quality = providerQuality({
      reachability: store?.getPeer(p.peerId)?.quality ?? 0.5,
      proof: p.proven ? 'proven' : c.challengeFailed(key, p.peerId) ? 'failed' : 'untested',
      reputation: reputationFactor(c.reputation, p.peerId)
    })
  }
  return providers
}
