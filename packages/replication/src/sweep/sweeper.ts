/**
 * The keyspace sweep: reprovide, republish and repair of healthy keys, with work per interval
 * that grows with regions and peers, not with keys (after go-libp2p-kad-dht's reprovide sweep).
 *
 * Every pass interval (the shorter of `repairInterval` and `reprovideInterval`) one pass walks
 * this node's pinned keys in keyspace order, region by region (prefix length: `regionBits` in
 * `keyspace.ts`). A region is due at `passStart + f × interval`, f its lower bound's fraction of
 * the keyspace, so regions go at a constant rate over the interval, never in a burst; empty
 * regions cost nothing. Per region: on a pass that reprovides (one every `reprovideInterval`),
 * one closest-peers lookup (for the region's first key; with the connected peers, the closest 32
 * are the region's peer set); on the passes between, the connected DHT servers alone (the
 * anti-entropy repair: a holder that missed versions while it was away, or a replica that went
 * stale, is brought up to date within one repair interval at the cost of one summary per region
 * and peer when nothing differs). Then for each peer of the set that should hold some
 * of the region's keys (among the `replicationFactor` closest of
 * the lookup's peers, as the receiver computes too), one summary exchange (`exchange.ts`) that transfers only what
 * differs. Keys whose holders the exchanges confirmed (this node plus `replicationFactor - 1`)
 * skip their per-key repair check for two passes (one statement per region, which writes only the
 * keys whose check would come before the region's next sweep). The cursor persists (`cursor.ts`,
 * at most once a second, and at a pass's end and on stop): a restart resumes where the sweep left
 * off, and a sweep that fell behind (the node was down) resumes at the same rate instead of
 * catching up at once.
 */
import { errorText, type Logger } from '@chorus/common'
import { type DHT, type PeerMessaging, sortByDistance } from '@chorus/dht'
import type { ReplicationPenalty } from '../api.js'
import type { ReplicationConfig } from '../config.js'
import type { ReplicationCounters } from '../metrics.js'
import { refreshAfter } from '../providers.js'
import type { ConfirmTimes } from '../store.js'
import { CursorFile, type SweepCursor } from './cursor.js'
import { type ExchangeComponents, Exchanges, type SweepCounters } from './exchange.js'
import { hex, MAX_PREFIX_BITS, PeerSet, type Region, regionBits, regionOf } from './keyspace.js'
import type { PinnedInRange, PinnedRanges } from './ranges.js'
import { RecentServers } from './recent-servers.js'
import { regionEntries, sharedOf } from './sets.js'
import { MAX_SYNC_KEYS, MAX_SYNC_PEERS } from './wire.js'

const ZERO = new Uint8Array(32)
/** Fraction of the keyspace below a position (its first 48 bits). */
const fraction = (p: Uint8Array): number => Buffer.from(p.subarray(0, 6)).readUIntBE(0, 6) / 2 ** 48
/** setTimeout's longest delay. */
const MAX_DELAY = 2 ** 31 - 1

export interface SweeperComponents {
  dht: Pick<DHT, 'getClosestPeers'>
  messaging: Pick<PeerMessaging, 'peerId' | 'request' | 'getConnectedPeers'>
  /** The pinned keys by position, or undefined while stopped. */
  ranges: () => PinnedRanges | undefined
  /** How many keys this node holds (sets the region size). */
  heldKeys: () => number
  recordHolder: (key: string, peer: string, digest: Uint8Array) => void
  /**
   * Whether the peer (this node included) is a DHT server: only servers are exchanged with, and
   * only copies on servers confirm a key's holders. Default: every peer is one.
   */
  isServer?: (peer: string) => boolean
  /** The keys' holders were confirmed: their per-key repair checks move as `times` says. */
  confirmed: (keys: readonly string[], times: ConfirmTimes) => void
  penalise: (peer: string, reason: ReplicationPenalty) => void
  counters: SweepCounters &
    Pick<
      ReplicationCounters,
      | 'sweepRegions'
      | 'sweepPasses'
      | 'sweepLastPassRegions'
      | 'sweepLastPassMessages'
      | 'sweepLastPassBytes'
      | 'sweepReprovideMessagesSent'
      | 'sweepReprovideBytesSent'
      | 'sweepLookups'
      | 'reprovideOperations'
      | 'lastReprovideTime'
    >
  log: Logger
}

export type SweeperInit = Pick<
  ReplicationConfig,
  | 'reprovideInterval'
  | 'repairInterval'
  | 'replicationFactor'
  | 'requestTimeout'
  | 'maxRecordBytes'
  | 'sweepRegionKeys'
  | 'sweepConcurrency'
  | 'jitter'
  | 'proofTTL'
> &
  Partial<Pick<ReplicationConfig, 'departureGrace'>> & {
    protocol: string
    /** Directory of the cursor file; undefined keeps it in memory. */
    dataDir: string | undefined
  }

export class Sweeper {
  private readonly components: SweeperComponents
  private readonly init: SweeperInit
  private readonly file: CursorFile
  private readonly exchanges: Exchanges
  /** The time one pass takes: the shorter of the repair and reprovide intervals. */
  private readonly interval: number
  private cursor: SweepCursor | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private running: Promise<void> | undefined
  private signal: AbortSignal | undefined
  /** Servers gone for less than `departureGrace` keep their place in a region's peer set. */
  private readonly recent: RecentServers

  constructor(components: SweeperComponents, init: SweeperInit) {
    this.components = components
    this.init = init
    this.file = new CursorFile(init.dataDir)
    this.interval = Math.max(1, Math.min(init.reprovideInterval, init.repairInterval))
    this.exchanges = new Exchanges({
      ...init,
      passInterval: this.interval,
      holderRefresh: refreshAfter(init.proofTTL)
    })
    this.recent = new RecentServers(init.departureGrace ?? 0)
  }

  start(signal: AbortSignal): void {
    this.signal = signal
    this.cursor = this.file.load()
    this.arm(0)
  }

  /** A peer left: its confirmed summaries are forgotten (it may come back with less). */
  forget(peer: string): void {
    this.exchanges.forget(peer)
  }

  /** Stops the timer and waits for the region being swept (its requests see the aborted signal). */
  async stop(): Promise<void> {
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
    this.signal = undefined
    await this.running
    // the regions swept since the last write: a clean restart resumes right after them
    if (this.cursor != null) this.file.save(this.cursor, true)
    this.exchanges.clear()
  }

  private arm(delay: number): void {
    if (this.signal == null || this.signal.aborted) return
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.running = this.step().finally(() => {
          this.running = undefined
        })
      },
      Math.min(MAX_DELAY, Math.max(0, delay))
    )
    this.timer.unref?.()
  }

  /** Sweeps the next region when it is due, then arms the timer for the one after. */
  private async step(): Promise<void> {
    const signal = this.signal
    if (signal == null || signal.aborted) return
    const now = Date.now()
    let cursor = this.cursor
    if (cursor == null) cursor = this.newPass(now)
    if (cursor.next == null) {
      // the pass is complete: the next starts one interval after this one did
      const at = cursor.passStart + this.interval
      if (at > now) return this.arm(at - now)
      cursor = this.newPass(now)
    }
    const region = this.nextRegion(cursor)
    if (region == null) {
      this.endPass(cursor)
      return this.arm(0)
    }
    const due = cursor.passStart + fraction(region.lo) * this.interval
    if (due > now + 50) return this.arm(due - now)
    // behind schedule (the node was down): go on from here at the pass's rate, no catching up
    if (now - due > this.interval / 100) cursor.passStart = now - fraction(region.lo) * this.interval
    try {
      const lookup = cursor.lookups !== false
      await this.sweepRegion(region, lookup, signal)
      // the reprovide interval counts from a pass that looked something up (not an empty one)
      if (lookup) cursor.lastLookupPass = cursor.passStart
    } catch (err) {
      if (!signal.aborted)
        this.components.log.debug({ err: errorText(err) }, 'replication: region sweep failed')
    }
    if (signal.aborted) return
    this.advance(cursor, region)
    this.arm(0)
  }

  private newPass(now: number): SweepCursor {
    const peers = this.components.messaging.getConnectedPeers().length + 1
    const bits = regionBits(this.components.heldKeys(), peers, this.init.sweepRegionKeys)
    // a pass reprovides (looks up each region's closest peers) once per reprovide interval; half
    // a pass of slack keeps drift from pushing it to the pass after
    const lastLookupPass = this.cursor?.lastLookupPass ?? 0
    const lookups = now - lastLookupPass >= this.init.reprovideInterval - this.interval / 2
    this.cursor = {
      next: hex(ZERO),
      passStart: now,
      bits,
      regions: 0,
      messages: 0,
      bytes: 0,
      lookups,
      lastLookupPass
    }
    return this.cursor
  }

  private endPass(cursor: SweepCursor): void {
    const c = this.components.counters
    c.sweepPasses++
    c.sweepLastPassRegions = cursor.regions
    c.sweepLastPassMessages = cursor.messages
    c.sweepLastPassBytes = cursor.bytes
    cursor.next = undefined
    this.file.save(cursor, true)
  }

  private advance(cursor: SweepCursor, region: Region): void {
    cursor.regions++
    if (region.hi.every((b) => b === 0)) this.endPass(cursor)
    else {
      cursor.next = hex(region.hi)
      this.file.save(cursor)
    }
  }

  /**
   * The region of the first held key at or after the cursor, narrowed until it holds at most
   * `MAX_SYNC_KEYS` keys (one message's worth); undefined when no key is left.
   */
  private nextRegion(cursor: SweepCursor): Region | undefined {
    const ranges = this.components.ranges()
    if (ranges == null || cursor.next == null) return undefined
    const from = new Uint8Array(Buffer.from(cursor.next, 'hex'))
    const first = ranges.pinnedInRange(from, ZERO, { limit: 1 })[0]
    if (first == null) return undefined
    let region = regionOf(first.position, cursor.bits)
    while (
      region.bits < MAX_PREFIX_BITS &&
      ranges.countPinnedInRange(region.lo, region.hi, MAX_SYNC_KEYS + 1) > MAX_SYNC_KEYS
    ) {
      region = regionOf(first.position, region.bits + 1)
    }
    return region
  }

  /**
   * One lookup (when `lookup`), then one exchange per target peer; keys with enough confirmed
   * holders skip repair checks.
   */
  private async sweepRegion(region: Region, lookup: boolean, signal: AbortSignal): Promise<void> {
    const ranges = this.components.ranges()
    if (ranges == null) return
    const self = this.components.messaging.peerId
    // the first key names the lookup; the region itself is read after it, once for all targets
    const first = ranges.pinnedInRange(region.lo, region.hi, { limit: 1 })[0]
    if (first === undefined) return
    const c = this.components.counters
    c.sweepRegions++
    if (lookup) c.sweepLookups++
    const found = lookup ? await this.components.dht.getClosestPeers(first.key, { signal }) : []
    // the lookup's answer and the peers this node is connected to (the view the replicate
    // handler checks pushes against), the closest to the region's first key
    const isServer = this.components.isServer ?? (() => true)
    const connected = this.components.messaging.getConnectedPeers()
    const candidates = new Set([...found.map((p) => p.id), ...connected])
    candidates.delete(self)
    // clients behind NAT cannot be looked up: a copy there makes no key readable
    for (const p of candidates) if (!isServer(p)) candidates.delete(p)
    // a holder restarting keeps its place (nothing is sent to it): see RecentServers
    const away = this.recent.away(connected.filter(isServer))
    for (const p of away) candidates.add(p)
    const closest = sortByDistance(first.key, [...candidates], { dropUndecodable: true })
    const peers = new PeerSet([self, ...closest.slice(0, MAX_SYNC_PEERS - 1)])
    // the factor, not factor + holderSlack: the slack is what a receiver tolerates, not a target
    const n = this.init.replicationFactor
    const tally = this.cursor ?? { messages: 0, bytes: 0 }
    const ex: ExchangeComponents = {
      messaging: this.components.messaging,
      ranges,
      recordHolder: this.components.recordHolder,
      penalise: this.components.penalise,
      counters: c,
      tally,
      log: this.components.log
    }
    const [messages0, bytes0] = [tally.messages, tally.bytes]
    const targets = peers.ids.filter((p) => p !== self && !away.has(p))
    const holders = new Map<string, number>()
    // each target's shared set is taken out of this one read of the region
    const entries = regionEntries(ranges, region)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < targets.length && !signal.aborted) {
        const peer = targets[next++]!
        const set = sharedOf(entries, peers, self, peer, n).slice(0, MAX_SYNC_KEYS)
        if (set.length === 0) continue
        const held: PinnedInRange[] = await this.exchanges.sync(ex, peer, region, peers, set, signal)
        for (const e of held) holders.set(e.key, (holders.get(e.key) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.init.sweepConcurrency, targets.length) }, worker))
    const now = Date.now()
    const own = isServer(self) ? 1 : 0
    const confirmed = [...holders].filter(([, count]) => own + count >= n).map(([key]) => key)
    if (confirmed.length > 0) {
      // a key written now is not due before the pass after next: written every other pass
      const spreadMs = this.interval * Math.min(0.5, this.init.jitter)
      this.components.confirmed(confirmed, {
        before: now + this.interval,
        until: now + 2 * this.interval + spreadMs,
        spreadMs
      })
    }
    if (lookup) {
      c.sweepReprovideMessagesSent += tally.messages - messages0
      c.sweepReprovideBytesSent += tally.bytes - bytes0
    }
    if (lookup && holders.size > 0) {
      c.reprovideOperations++
      c.lastReprovideTime = new Date(now)
    }
    this.components.log.debug(
      { bits: region.bits, keys: entries.length, peers: targets.length, confirmed: confirmed.length },
      'replication: swept a region'
    )
  }
}
