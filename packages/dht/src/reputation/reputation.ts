import { createRefusalLog, silentLogger } from '@chorus/common'
import type { ConnectionGater, PeerId } from '@libp2p/interface'
import type { Logger } from '../contract.js'

/** Why a peer is penalised. Each reason has a default weight (`DEFAULT_PENALTY_WEIGHTS`). */
export type PenaltyReason =
  /** It sent a record its namespace validator refused (malformed, oversized, badly signed...). */
  | 'invalid-record'
  /** It sent a message our protocols cannot parse or that breaks their limits. */
  | 'invalid-message'
  /** It sent more requests than its rate limit allows. */
  | 'flood'
  /** It announced provider records it has no business announcing. */
  | 'bogus-provider'

/**
 * Points per offence. With the default threshold of 100, three invalid records, five malformed
 * messages or ten refused floods within a few minutes get a peer banned.
 */
export const DEFAULT_PENALTY_WEIGHTS: Readonly<Record<PenaltyReason, number>> = Object.freeze({
  'invalid-record': 40,
  'invalid-message': 20,
  flood: 10,
  'bogus-provider': 20
})

export interface PeerReputationInit {
  /** Penalty points at which a peer is banned. Default: 100. */
  threshold?: number
  /**
   * Half-life of penalty points in ms: points halve every `decay` ms, so a peer that made an
   * occasional mistake is never banned for it. Default: 600000 (10 min).
   */
  decay?: number
  /** How long the first ban lasts, in ms. Each further ban of the same peer doubles it. Default: 600000 (10 min). */
  banDuration?: number
  /** Longest ban, in ms. Default: 86400000 (24 h). */
  maxBanDuration?: number
  /** Points per reason, merged over `DEFAULT_PENALTY_WEIGHTS`. */
  weights?: Partial<Record<PenaltyReason, number>>
  /** Peers that are never banned (for example this node itself). Default: none. */
  exempt?: string[]
  /** Most peers tracked at once; the least recently penalised unbanned ones are forgotten first. Default: 10000. */
  maxTrackedPeers?: number
  /** Clock in ms (tests). Default: `Date.now`. */
  now?: () => number
  /** Logger (peer ids and reasons only). Default: silent. */
  logger?: Logger
}

/** A ban as `onBan` listeners and `banned()` see it. */
export interface BanInfo {
  peer: string
  /** ms since epoch when the ban ends. */
  until: number
  /** The offence that crossed the threshold (or `'manual'`). */
  reason: PenaltyReason | 'manual'
  /** How many times this peer has been banned, this ban included. */
  count: number
}

export interface PenaltyResult {
  /** Penalty points after this offence (decayed). */
  score: number
  /** Whether the peer is banned now. */
  banned: boolean
}

export interface ReputationStats {
  /** Offences recorded, by reason. */
  penalties: Record<PenaltyReason, number>
  /** Bans issued since creation. */
  bans: number
  /** Peers banned right now. */
  bannedNow: number
  /** Peers with penalty points or a ban record. */
  trackedPeers: number
}

/** The libp2p connection-gater methods the reputation system answers. */
export type ReputationGater = Required<
  Pick<
    ConnectionGater,
    | 'denyDialPeer'
    | 'denyOutboundConnection'
    | 'denyInboundEncryptedConnection'
    | 'denyOutboundEncryptedConnection'
    | 'denyInboundUpgradedConnection'
    | 'denyOutboundUpgradedConnection'
  >
>

/** A peer id as libp2p or the `DHT` contract give it. */
export type PeerRef = string | PeerId

export interface PeerReputation {
  /** Records an offence; bans the peer when its points reach the threshold. `weight` overrides the reason's. */
  penalise(peer: PeerRef, reason: PenaltyReason, weight?: number): PenaltyResult
  /** Hook for a record refused by a validator (kad-dht PUT_VALUE or GET_VALUE answer). */
  onInvalidRecord(peer: PeerRef): PenaltyResult
  /** Hook for a request refused by a rate limiter. */
  onFlood(peer: PeerRef): PenaltyResult
  /** Current (decayed) penalty points of the peer. */
  score(peer: PeerRef): number
  isBanned(peer: PeerRef): boolean
  /** Bans the peer now, for `duration` ms (default: its next ban duration). */
  ban(peer: PeerRef, duration?: number): BanInfo
  /** Lifts a ban and clears the peer's points. */
  unban(peer: PeerRef): void
  /** Bans in force. */
  banned(): BanInfo[]
  /** Calls `listener` on every new ban (to hang up on the peer); returns a function that removes it. */
  onBan(listener: (info: BanInfo) => void): () => void
  /** Connection-gater methods refusing banned peers in both directions; merge with `combineGaters`. */
  readonly gater: ReputationGater
  stats(): ReputationStats
}

interface Entry {
  points: number
  at: number
  bannedUntil: number
  bans: number
  reason: BanInfo['reason']
}

/** Creates the peer reputation system (the reference's "peer reputation system"). */
export function createPeerReputation(init: PeerReputationInit = {}): PeerReputation {
  const threshold = positive(init.threshold, 100, 'threshold')
  const halfLife = positive(init.decay, 600_000, 'decay')
  const banDuration = positive(init.banDuration, 600_000, 'banDuration')
  const maxBanDuration = Math.max(banDuration, positive(init.maxBanDuration, 86_400_000, 'maxBanDuration'))
  const maxTracked = positive(init.maxTrackedPeers, 10_000, 'maxTrackedPeers')
  const weights: Record<PenaltyReason, number> = { ...DEFAULT_PENALTY_WEIGHTS, ...init.weights }
  const exempt = new Set(init.exempt ?? [])
  const now = init.now ?? Date.now
  const log = init.logger ?? silentLogger
  // a penalty a line up to a rate per reason, then a summary: a flood of offences is not one of lines
  const penaltyLines = createRefusalLog(log, { level: 'debug' })
  const entries = new Map<string, Entry>()
  const listeners = new Set<(info: BanInfo) => void>()
  const penalties: Record<PenaltyReason, number> = {
    'invalid-record': 0,
    'invalid-message': 0,
    flood: 0,
    'bogus-provider': 0
  }
  let bans = 0

  const decayed = (e: Entry, t: number): number => e.points * 0.5 ** (Math.max(0, t - e.at) / halfLife)

  const touch = (id: string, t: number): Entry => {
    let e = entries.get(id)
    if (e == null) {
      e = { points: 0, at: t, bannedUntil: 0, bans: 0, reason: 'manual' }
    } else {
      e.points = decayed(e, t)
      e.at = t
      entries.delete(id)
    }
    entries.set(id, e)
    prune(t, id)
    return e
  }

  // drop forgotten peers first (no points left, no ban), then the least recently touched unbanned
  // never the entry being touched (`keep`): its caller is about to add points or a ban to it
  const prune = (t: number, keep: string): void => {
    if (entries.size <= maxTracked) return
    for (const [id, e] of entries) {
      if (entries.size <= maxTracked) return
      if (id !== keep && e.bannedUntil <= t && decayed(e, t) < 1) entries.delete(id)
    }
    for (const [id, e] of entries) {
      if (entries.size <= maxTracked) return
      if (id !== keep && e.bannedUntil <= t) entries.delete(id)
    }
  }

  const issueBan = (id: string, e: Entry, t: number, reason: BanInfo['reason'], duration?: number) => {
    e.bans++
    bans++
    const d = duration ?? Math.min(maxBanDuration, banDuration * 2 ** (e.bans - 1))
    e.bannedUntil = t + d
    e.reason = reason
    const info: BanInfo = { peer: id, until: e.bannedUntil, reason, count: e.bans }
    log.warn({ peer: id, reason, banMs: d, count: e.bans }, 'peer banned')
    for (const l of listeners) {
      try {
        l(info)
      } catch (err) {
        log.debug({ peer: id, err: err instanceof Error ? err.message : String(err) }, 'ban listener failed')
      }
    }
    return info
  }

  const isBanned = (peer: PeerRef): boolean => {
    const e = entries.get(String(peer))
    return e != null && e.bannedUntil > now()
  }

  const penalise = (peer: PeerRef, reason: PenaltyReason, weight?: number): PenaltyResult => {
    const id = String(peer)
    const w = weight ?? weights[reason]
    if (!(typeof w === 'number' && Number.isFinite(w) && w >= 0)) {
      throw new RangeError(`penalty weight must be a finite number >= 0, got ${String(w)}`)
    }
    if (penalties[reason] === undefined) throw new RangeError(`unknown penalty reason ${String(reason)}`)
    penalties[reason]++
    if (exempt.has(id)) return { score: 0, banned: false }
    const t = now()
    const e = touch(id, t)
    e.points += w
    penaltyLines.refused(reason, { peer: id, points: Math.round(e.points) }, 'peer penalised')
    if (e.bannedUntil <= t && e.points >= threshold) {
      issueBan(id, e, t, reason)
      // a fresh start after the ban: the ban itself is the punishment
      e.points = 0
    }
    return { score: e.points, banned: e.bannedUntil > t }
  }

  const denyPeer = (peer: PeerId): boolean => isBanned(peer)

  return {
    penalise,
    onInvalidRecord: (peer) => penalise(peer, 'invalid-record'),
    onFlood: (peer) => penalise(peer, 'flood'),
    score(peer) {
      const e = entries.get(String(peer))
      return e == null ? 0 : decayed(e, now())
    },
    isBanned,
    ban(peer, duration) {
      const id = String(peer)
      if (duration !== undefined) positive(duration, 1, 'duration')
      const t = now()
      return issueBan(id, touch(id, t), t, 'manual', duration)
    },
    unban(peer) {
      const e = entries.get(String(peer))
      if (e == null) return
      e.bannedUntil = 0
      e.points = 0
    },
    banned() {
      const t = now()
      const out: BanInfo[] = []
      for (const [peer, e] of entries) {
        if (e.bannedUntil > t) out.push({ peer, until: e.bannedUntil, reason: e.reason, count: e.bans })
      }
      return out
    },
    onBan(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    gater: {
      denyDialPeer: denyPeer,
      denyOutboundConnection: denyPeer,
      denyInboundEncryptedConnection: denyPeer,
      denyOutboundEncryptedConnection: denyPeer,
      denyInboundUpgradedConnection: denyPeer,
      denyOutboundUpgradedConnection: denyPeer
    },
    stats() {
      const t = now()
      let bannedNow = 0
      for (const e of entries.values()) if (e.bannedUntil > t) bannedNow++
      return { penalties: { ...penalties }, bans, bannedNow, trackedPeers: entries.size }
    }
  }
}

/**
 * Merges connection gaters: a connection or dial is refused when any of them refuses it. Use it to
 * add the reputation gater to an existing one (e.g. `{ denyDialMultiaddr: () => false }`).
 */
export function combineGaters(...gaters: Array<ConnectionGater | undefined>): ConnectionGater {
  const list = gaters.filter((g): g is ConnectionGater => g != null)
  const methods = new Set(list.flatMap((g) => Object.keys(g))) as Set<keyof ConnectionGater>
  const out: Record<string, (...args: unknown[]) => Promise<boolean>> = {}
  for (const m of methods) {
    if (m === 'filterMultiaddrForPeer') continue
    out[m] = async (...args: unknown[]) => {
      for (const g of list) {
        const f = g[m] as ((...a: unknown[]) => Promise<boolean> | boolean) | undefined
        if (f != null && (await f.apply(g, args)) === true) return true
      }
      return false
    }
  }
  if (methods.has('filterMultiaddrForPeer')) {
    // the opposite sense: true keeps the address, so every gater must keep it
    out.filterMultiaddrForPeer = async (...args: unknown[]) => {
      for (const g of list) {
        const f = g.filterMultiaddrForPeer as ((...a: unknown[]) => Promise<boolean> | boolean) | undefined
        if (f != null && (await f.apply(g, args)) === false) return false
      }
      return true
    }
  }
  return out as ConnectionGater
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) {
    throw new RangeError(`${name} must be a positive finite number, got ${String(v)}`)
  }
  return v
}
