/**
 * The sync handlers: the receiving side of the sweep's anti-entropy exchange (`sweep/wire.ts`).
 * Requests reach them decoded, bounded and within the sender's rate (the edge checked that).
 *
 * - summary: this node computes the set it shares with the sender in the named region (same
 *   peer set, same rule: `sweep/keyspace.ts`). Equal roots: it answers with a sampled proof of
 *   possession and records the sender as a holder candidate of every key of the set (that is the
 *   reprovide; not again within `refreshAfter(providerTTL)` for the same root, which the
 *   provider cache would not write anyway). Different: it answers with its leaf hashes.
 * - leaves: for the sender's (position, digest) pairs of the differing leaves, it asks for the
 *   records it lacks or holds in another version, and reserves them in a session (a concurrent
 *   sweep of another holder is not asked for the same records: a wiped node is refilled once).
 * - records: each record must be one the session asked for (else `invalid-message`), and goes
 *   through the replicate handler (`CHORUS` rules, succession, quotas), also when its value is
 *   not the one named (the sender's copy moved on to a newer version meanwhile). A final message
 *   that leaves named records undelivered costs `bogus-provider`. A record refused for more than
 *   being stale ends the session (the sender holds back the rest).
 */
import { randomBytes } from 'node:crypto'
import { bytesEqual } from '@chorus/common'
import { keyPosition } from '@chorus/dht'
import type { ReplicationPenalty } from '../../api.js'
import type { ReplicationConfig } from '../../config.js'
import type { RefusalCode } from '../../errors.js'
import type { ReplicationCounters } from '../../metrics.js'
import { sameDigest } from '../../proof.js'
import { type ReplicateRequest, type ReplicateResponse, refusal } from '../../protocol.js'
import { refreshAfter } from '../../providers.js'
import {
  hex,
  inRegion,
  leafHashes,
  leafOf,
  PeerSet,
  type Region,
  regionFromPrefix,
  rootOf
} from '../../sweep/keyspace.js'
import type { PinnedRanges } from '../../sweep/ranges.js'
import { RecentRoots } from '../../sweep/recent-roots.js'
import { backsOff } from '../../sweep/refusals.js'
import { regionKey } from '../../sweep/region-memo.js'
import { byPosition, sampledProof, sharedSet, shortPosition } from '../../sweep/sets.js'
import {
  MAX_SYNC_KEYS,
  PAIR_HALF,
  type SyncLeavesRequest,
  type SyncRecordsRequest,
  type SyncScope,
  type SyncSummaryRequest,
  unpackPairs
} from '../../sweep/wire.js'

export interface SyncHandlerComponents {
  /** The pinned keys by position, or undefined while stopped. */
  ranges: () => PinnedRanges | undefined
  peerId: string
  /** The replicate handler, bound to its components. */
  replicate: (req: ReplicateRequest, from: string) => Promise<ReplicateResponse>
  /** Records provider candidates of the key. */
  nominate: (key: string, peers: string[], at: number) => void
  /**
   * A record came in by a sync: the sweep announces it from now on (a refilled record is not
   * new content, so no per-key first provide). Optional.
   */
  swept?: (key: string) => void
  penalise: (peer: string, reason: ReplicationPenalty) => void
  counters: Pick<
    ReplicationCounters,
    'sweepRecordsReceived' | 'sweepRecordBytesReceived' | 'sweepKeysConfirmed'
  >
}

export type SyncHandlerInit = Pick<ReplicationConfig, 'replicationFactor' | 'requestTimeout' | 'providerTTL'>

interface Session {
  from: string
  /** The records the session asked for, by the hex of their position's first 16 bytes. */
  expected: Set<string>
  expiresAt: number
}

/** Open sessions at most, in all and per sender. */
const MAX_SESSIONS = 256
const MAX_SESSIONS_PER_PEER = 4

export class SyncHandler {
  private readonly components: SyncHandlerComponents
  private readonly init: SyncHandlerInit
  private readonly sessions = new Map<string, Session>()
  /** hex of the position's first 16 bytes → the session that is to deliver it. */
  private readonly reserved = new Map<string, string>()
  /** Roots whose keys named the sender a holder candidate lately. */
  private readonly nominated = new RecentRoots()

  constructor(components: SyncHandlerComponents, init: SyncHandlerInit) {
    this.components = components
    this.init = init
  }

  clear(): void {
    this.sessions.clear()
    this.reserved.clear()
    this.nominated.clear()
  }

  /** A peer left: its next matching summary names it a holder of every key again. */
  forget(peer: string): void {
    this.nominated.forget(peer)
  }

  /** The region and peer set of a request, or a refusal (an ill-formed prefix costs `invalid-message`). */
  private scope(req: SyncScope, from: string): { region: Region; peers: PeerSet } | ReplicateResponse {
    const region = regionFromPrefix(req.prefix, req.bits)
    if (region == null) {
      this.components.penalise(from, 'invalid-message')
      return refusal('MALFORMED_REQUEST')
    }
    const peers = new PeerSet(req.peers)
    if (!peers.has(from) || !peers.has(this.components.peerId)) return refusal('NOT_A_TARGET')
    return { region, peers }
  }

  summary(req: SyncSummaryRequest, from: string): ReplicateResponse {
    const ranges = this.components.ranges()
    if (ranges == null) return refusal('NOT_ACCEPTING')
    const s = this.scope(req, from)
    if ('ok' in s) return s
    const n = this.init.replicationFactor
    const set = sharedSet(ranges, s.region, s.peers, this.components.peerId, from, n).slice(0, MAX_SYNC_KEYS)
    const leaves = leafHashes(set, req.bits, req.depth)
    const root = rootOf(leaves)
    if (set.length !== req.count || !bytesEqual(root, req.root))
      return { ok: true, sync: { match: false, leaves } }
    const proof = sampledProof(req.nonce, root, set, (e) => ranges.valueOf(e.key))
    if (proof == null) return { ok: true, sync: { match: false, leaves } }
    const memo = regionKey(from, req.bits, hex(s.region.lo))
    const rootHex = hex(root)
    if (!this.nominated.within(memo, rootHex, refreshAfter(this.init.providerTTL))) {
      const now = Date.now()
      for (const e of set) this.components.nominate(e.key, [from], now)
      this.nominated.remember(memo, rootHex, now)
    }
    this.components.counters.sweepKeysConfirmed += set.length
    return { ok: true, sync: { match: true, proof } }
  }

  leaves(req: SyncLeavesRequest, from: string): ReplicateResponse {
    const ranges = this.components.ranges()
    if (ranges == null) return refusal('NOT_ACCEPTING')
    const s = this.scope(req, from)
    if ('ok' in s) return s
    const self = this.components.peerId
    const n = this.init.replicationFactor
    // every pair must lie in the leaf it is listed under, in ascending order: checked before any use
    const pairs: Array<{ position: Uint8Array; digest: Uint8Array }> = []
    for (const [index, packed] of req.leaves) {
      let last: Uint8Array | undefined
      for (const p of unpackPairs(packed)) {
        const ordered = last == null || Buffer.compare(last, p.position) < 0
        if (
          !ordered ||
          !inRegion(p.position, s.region) ||
          leafOf(p.position, req.bits, req.depth) !== index
        ) {
          this.components.penalise(from, 'invalid-message')
          return refusal('MALFORMED_REQUEST')
        }
        last = p.position
        pairs.push(p)
      }
    }
    this.expire()
    if (this.sessions.size >= MAX_SESSIONS || this.openBy(from) >= MAX_SESSIONS_PER_PEER) {
      return refusal('BUSY')
    }
    const own = byPosition(sharedSet(ranges, s.region, s.peers, self, from, n))
    const id = Buffer.from(randomBytes(16))
    const session: Session = {
      from,
      expected: new Set(),
      expiresAt: Date.now() + 3 * this.init.requestTimeout
    }
    const want: number[] = []
    pairs.forEach((p, i) => {
      const h = hex(p.position)
      if (!s.peers.isTarget(self, p.position, n) || !s.peers.isTarget(from, p.position, n)) return
      if (sameDigest(own.get(h)?.digest.subarray(0, PAIR_HALF), p.digest)) return
      if (this.reserved.has(h) || session.expected.has(h)) return
      session.expected.add(h)
      want.push(i)
    })
    if (want.length > 0) {
      const sid = id.toString('hex')
      this.sessions.set(sid, session)
      for (const h of session.expected) this.reserved.set(h, sid)
    }
    return { ok: true, sync: { session: new Uint8Array(id), want } }
  }

  async records(req: SyncRecordsRequest, from: string): Promise<ReplicateResponse> {
    const sid = hex(req.session)
    const session = this.sessions.get(sid)
    if (session == null || session.from !== from || session.expiresAt < Date.now())
      return refusal('NO_SESSION')
    // each batch keeps the session open for another while
    session.expiresAt = Date.now() + 3 * this.init.requestTimeout
    const { counters } = this.components
    let accepted = 0
    let unnamed = false
    let bogus = false
    const refused: Array<[number, RefusalCode]> = []
    for (let i = 0; i < req.records.length; i++) {
      const r = req.records[i]!
      const h = shortPosition(keyPosition(r.key))
      if (!session.expected.has(h)) {
        unnamed = true
        refused.push([i, 'NOT_A_TARGET'])
        continue
      }
      session.expected.delete(h)
      this.reserved.delete(h)
      // another value than the one named: the sender's copy moved on to a newer version between
      // the pairs and the records (a write arrived meanwhile); the rules below judge it like any
      // pushed record. Only a named record that never comes is charged.
      const res = await this.components.replicate({ key: r.key, value: r.value, priority: r.priority }, from)
      if (res.ok) {
        this.components.swept?.(r.key)
        accepted++
        counters.sweepRecordsReceived++
        counters.sweepRecordBytesReceived += r.value.byteLength
      } else {
        refused.push([i, res.code])
      }
    }
    // a record this node would not take (its quota, its disk, stopping) ends the session: the
    // sender holds the rest back (`sweep/refusals.ts`), and nothing stays reserved for it
    const declined = refused.some(([, code]) => backsOff(code))
    if (req.final || session.expected.size === 0 || declined) {
      if (session.expected.size > 0 && !declined) bogus = true
      this.close(sid)
    }
    if (unnamed) this.components.penalise(from, 'invalid-message')
    // it named records (by their digests) that it then did not, or could not, serve
    if (bogus) this.components.penalise(from, 'bogus-provider')
    return { ok: true, sync: { accepted, refused } }
  }

  private openBy(peer: string): number {
    let n = 0
    for (const s of this.sessions.values()) if (s.from === peer) n++
    return n
  }

  private close(sid: string): void {
    const s = this.sessions.get(sid)
    if (s == null) return
    for (const h of s.expected) if (this.reserved.get(h) === sid) this.reserved.delete(h)
    this.sessions.delete(sid)
  }

  /** Drops expired sessions (their reservations free the records for another holder's sweep). */
  private expire(now = Date.now()): void {
    for (const [sid, s] of this.sessions) if (s.expiresAt < now) this.close(sid)
  }
}
