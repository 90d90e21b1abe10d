/**
 * The sending side of one sync with one target peer for one region (`wire.ts` has the messages):
 * a summary first; on a match, the peer's sampled proof of possession is checked and it counts
 * as a holder of every key of the set; on a mismatch, the (position, digest) pairs of the
 * differing leaves go over, and only the records the peer asks for follow, in batches of at most
 * 64 records and 128 KiB (and `maxRecordBytes`). A summary of the same set the peer confirmed
 * within half an interval is not sent again, and a match of the root the peer matched within
 * `holderRefresh` does not record each key's holder again (an idle region costs one message).
 * Where the peer refused records, it is sent none in that region for a while (`refusals.ts`):
 * the summary still goes, and the keys of the leaves that match still count as held.
 */
import { errorText, type Logger, timeoutSignal } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ReplicationPenalty } from '../api.js'
import type { ReplicationCounters } from '../metrics.js'
import { newNonce, sameDigest, valueDigest } from '../proof.js'
import { REQUEST_OVERHEAD_BYTES } from '../protocol.js'
import {
  differingLeaves,
  hex,
  leafDepth,
  leafHashes,
  leafOf,
  type PeerSet,
  prefixBytes,
  type Region,
  rootOf
} from './keyspace.js'
import type { PinnedInRange, PinnedRanges } from './ranges.js'
import { RecentRoots } from './recent-roots.js'
import { backsOff, RefusalBackoff } from './refusals.js'
import { regionKey } from './region-memo.js'
import { sampledProof } from './sets.js'
import {
  decodeSyncResponse,
  encodeSyncRequest,
  MAX_SYNC_KEYS,
  packPairs,
  type SyncReply,
  type SyncRequest
} from './wire.js'

/** Largest answer to a sync request read (leaf hashes, want lists, refusal lists). */
const MAX_SYNC_RESPONSE_BYTES = 256 * 1024
/** Room kept in a leaves message for everything but the pairs (peer ids, framing). */
const SCOPE_BYTES = 4096
/**
 * A record batch carries at most this many records and bytes (and never more than
 * `maxRecordBytes`): the receiver validates and stores each, so a batch's handling stays well
 * within one request's time limit on a loaded node.
 */
const BATCH_RECORDS = 64
const BATCH_BYTES = 128 * 1024

export type SweepCounters = Pick<
  ReplicationCounters,
  | 'sweepMessagesSent'
  | 'sweepBytesSent'
  | 'sweepBytesReceived'
  | 'sweepRecordsSent'
  | 'sweepRecordBytesSent'
  | 'sweepRecordsRefused'
  | 'sweepRegionsHeldBack'
>

export interface ExchangeComponents {
  messaging: Pick<PeerMessaging, 'request'>
  ranges: PinnedRanges
  /** Records that the peer holds exactly this value of the key. */
  recordHolder: (key: string, peer: string, digest: Uint8Array) => void
  penalise: (peer: string, reason: ReplicationPenalty) => void
  counters: SweepCounters
  /** Tallies of the current pass. */
  tally: { messages: number; bytes: number }
  log: Logger
}

export interface ExchangeInit {
  protocol: string
  requestTimeout: number
  maxRecordBytes: number
  /**
   * The sweep's pass interval: a summary the peer confirmed within half of it is not sent again,
   * and a region where the peer refused records is sent none for at least this long.
   */
  passInterval: number
  /**
   * A match of the root the peer matched within this time does not record its holders key by key
   * again (their proofs are that fresh already; see `refreshAfter`).
   */
  holderRefresh: number
}

export class Exchanges {
  /** Roots the peer matched: a summary of the same one is not sent again within half a pass. */
  private readonly matched = new RecentRoots()
  /** Roots whose holders were recorded key by key (within `holderRefresh`, not again). */
  private readonly booked = new RecentRoots()
  /** Regions where the peer refused records: none are sent there for a while. */
  private readonly refusals = new RefusalBackoff()
  private readonly init: ExchangeInit

  constructor(init: ExchangeInit) {
    this.init = init
  }

  clear(): void {
    this.matched.clear()
    this.booked.clear()
    this.refusals.clear()
  }

  forget(peer: string): void {
    this.matched.forget(peer)
    this.booked.forget(peer)
    this.refusals.forget(peer)
  }

  /** Syncs `set` (the keys both should hold) with `peer`; resolves to the keys the peer now holds. */
  async sync(
    c: ExchangeComponents,
    peer: string,
    region: Region,
    peers: PeerSet,
    set: PinnedInRange[],
    signal: AbortSignal
  ): Promise<PinnedInRange[]> {
    const depth = leafDepth(set.length)
    const mine = leafHashes(set, region.bits, depth)
    const root = rootOf(mine)
    const rootHex = hex(root)
    const memo = regionKey(peer, region.bits, hex(region.lo))
    if (this.matched.within(memo, rootHex, this.init.passInterval / 2)) return set
    const scope = { prefix: prefixBytes(region), bits: region.bits, peers: peers.ids, depth }
    const nonce = newNonce()
    const summary = await this.send(
      c,
      peer,
      { op: 'sync', ...scope, count: set.length, root, nonce },
      signal,
      depth
    )
    if (summary == null) return []
    if ('match' in summary && summary.match) {
      // the values the root covered: one replaced since (a newer version arrived during the
      // exchange) leaves the proof unverifiable here, which says nothing against the peer
      const expected = sampledProof(nonce, root, set, (e) => {
        const v = c.ranges.valueOf(e.key)
        return v != null && sameDigest(valueDigest(v), e.digest) ? v : undefined
      })
      if (expected === undefined) return []
      if (!sameDigest(expected, summary.proof)) {
        c.penalise(peer, 'bogus-provider')
        return []
      }
      if (!this.booked.within(memo, rootHex, this.init.holderRefresh)) {
        for (const e of set) c.recordHolder(e.key, peer, e.digest)
        this.booked.remember(memo, rootHex)
      }
      this.matched.remember(memo, rootHex)
      return set
    }
    if (!('leaves' in summary)) return []
    const differing = new Set(differingLeaves(mine, summary.leaves))
    const held: PinnedInRange[] = set.filter((e) => !differing.has(leafOf(e.position, region.bits, depth)))
    if (this.refusals.holding(memo)) {
      c.counters.sweepRegionsHeldBack++
      for (const e of held) c.recordHolder(e.key, peer, e.digest)
      return held
    }
    const maxPairs = Math.max(
      1,
      Math.floor((this.init.maxRecordBytes + REQUEST_OVERHEAD_BYTES - SCOPE_BYTES) / 64)
    )
    let taken = 0
    let refused = 0
    for (const chunk of chunkLeaves(set, region.bits, depth, differing, Math.min(maxPairs, MAX_SYNC_KEYS))) {
      const leaves = chunk.map(([i, entries]) => [i, packPairs(entries)] as [number, Uint8Array])
      const reply = await this.send(c, peer, { op: 'sync-leaves', ...scope, leaves }, signal)
      if (reply == null || !('want' in reply)) break
      const flat = chunk.flatMap(([, entries]) => entries)
      const wanted = new Set(reply.want.filter((i) => i < flat.length))
      flat.forEach((e, i) => {
        if (!wanted.has(i)) held.push(e)
      })
      if (wanted.size === 0) continue
      const result = await this.sendRecords(
        c,
        peer,
        reply.session,
        [...wanted].map((i) => flat[i]!),
        signal
      )
      held.push(...result.accepted)
      taken += result.accepted.length
      refused += result.refused
      // the rest would be refused too: they wait for the back-off, like the next pass
      if (result.refused > 0) break
    }
    if (refused > 0) this.refusals.refused(memo, this.init.passInterval)
    else if (taken > 0) this.refusals.accepted(memo)
    for (const e of held) c.recordHolder(e.key, peer, e.digest)
    return held
  }

  /**
   * Sends the wanted records in batches (at most 64 records and 128 KiB), and stops at a batch
   * the peer refused records of (beyond `STALE`); resolves to the accepted ones and the number of
   * those refusals.
   */
  private async sendRecords(
    c: ExchangeComponents,
    peer: string,
    session: Uint8Array,
    wanted: PinnedInRange[],
    signal: AbortSignal
  ): Promise<{ accepted: PinnedInRange[]; refused: number }> {
    const accepted: PinnedInRange[] = []
    let refusedInAll = 0
    const batchBytes = Math.min(this.init.maxRecordBytes, BATCH_BYTES)
    let batch: Array<{ entry: PinnedInRange; value: Uint8Array }> = []
    let bytes = 0
    const flush = async (final: boolean): Promise<boolean> => {
      const records = batch.map((b) => ({ key: b.entry.key, value: b.value, priority: 0 }))
      const reply = await this.send(c, peer, { op: 'sync-records', session, records, final }, signal)
      if (reply == null || !('accepted' in reply)) return false
      const refused = new Set(reply.refused.map(([i]) => i))
      const holding = reply.refused.filter(([, code]) => backsOff(code)).length
      c.counters.sweepRecordsRefused += holding
      refusedInAll += holding
      batch.forEach((b, i) => {
        if (refused.has(i)) return
        // the peer holds the value sent (newer than the one named, if it changed meanwhile)
        accepted.push({ ...b.entry, digest: valueDigest(b.value) })
        c.counters.sweepRecordsSent++
        c.counters.sweepRecordBytesSent += b.value.byteLength
      })
      batch = []
      bytes = 0
      return holding === 0
    }
    for (let i = 0; i < wanted.length; i++) {
      const entry = wanted[i]!
      const value = c.ranges.valueOf(entry.key)
      if (value == null) continue
      // what the record adds to the request: the value, the key and CBOR framing (so a batch
      // stays within the receiver's request limit, maxRecordBytes plus 16 KiB)
      const cost = value.byteLength + entry.key.length + 16
      if (batch.length > 0 && (bytes + cost > batchBytes || batch.length >= BATCH_RECORDS)) {
        if (!(await flush(false))) return { accepted, refused: refusedInAll }
      }
      batch.push({ entry, value })
      bytes += cost
    }
    if (batch.length > 0 || wanted.length > 0) await flush(true)
    return { accepted, refused: refusedInAll }
  }

  /** One sync request; undefined when refused, unreachable or answered out of shape. */
  private async send(
    c: ExchangeComponents,
    peer: string,
    req: SyncRequest,
    signal: AbortSignal,
    depth = 0
  ): Promise<SyncReply | undefined> {
    const body = encodeSyncRequest(req)
    c.counters.sweepMessagesSent++
    c.counters.sweepBytesSent += body.byteLength
    c.tally.messages++
    c.tally.bytes += body.byteLength
    let res: Uint8Array
    try {
      res = await c.messaging.request(peer, this.init.protocol, body, {
        signal: timeoutSignal(this.init.requestTimeout, signal),
        maxResponseBytes: MAX_SYNC_RESPONSE_BYTES
      })
    } catch (err) {
      c.log.debug({ peer, op: req.op, err: errorText(err) }, 'replication: sync request failed')
      return undefined
    }
    c.counters.sweepBytesReceived += res.byteLength
    c.tally.bytes += res.byteLength
    try {
      const decoded = decodeSyncResponse(req.op, res, depth)
      if (!decoded.ok) {
        c.log.debug({ peer, op: req.op, code: decoded.code }, 'replication: sync refused')
        return undefined
      }
      return decoded.sync
    } catch {
      c.penalise(peer, 'invalid-message')
      return undefined
    }
  }
}

/** The differing leaves' entries, grouped by leaf and cut into chunks of at most `max` pairs. */
function chunkLeaves(
  set: PinnedInRange[],
  bits: number,
  depth: number,
  differing: Set<number>,
  max: number
): Array<Array<[number, PinnedInRange[]]>> {
  const byLeaf = new Map<number, PinnedInRange[]>()
  for (const e of set) {
    const leaf = leafOf(e.position, bits, depth)
    if (!differing.has(leaf)) continue
    const list = byLeaf.get(leaf) ?? []
    list.push(e)
    byLeaf.set(leaf, list)
  }
  const chunks: Array<Array<[number, PinnedInRange[]]>> = []
  let chunk: Array<[number, PinnedInRange[]]> = []
  let size = 0
  for (const leaf of [...byLeaf.keys()].sort((a, b) => a - b)) {
    const entries = byLeaf.get(leaf)!.slice(0, max)
    if (size + entries.length > max && chunk.length > 0) {
      chunks.push(chunk)
      chunk = []
      size = 0
    }
    chunk.push([leaf, entries])
    size += entries.length
  }
  if (chunk.length > 0) chunks.push(chunk)
  return chunks
}
