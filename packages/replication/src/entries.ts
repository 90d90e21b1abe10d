/**
 * The entry model: the keys this node manages, each a row of the SQLite {@link ReplicationStore}
 * with its schedule (next repair, provide and republish due times, failures, deferral) and its
 * pinned value. Nothing per key lives only in memory: `open()` reads no row, the scheduler asks
 * the store for due work in batches, counters are kept by the database.
 *
 * An {@link Entry} is a copy of a row. While a job works on one, the entry is *held* (`hold`):
 * `get` and `due` then answer with that same object, so what the job and a concurrent status
 * check write is not lost to each other; held entries are as many as the jobs queued. Each entry
 * carries its row's generation: `set` (a new or replaced entry) gives a new one, so a job that
 * still holds the old entry no longer writes it (`isCurrent`, `persist`).
 */
import { randomBytes } from 'node:crypto'
import type { ReplicationConfig } from './config.js'
import { type PeerUsage, type QuotaLimits, withinQuota } from './quota.js'
import {
  type ConfirmTimes,
  type ContentRow,
  type ContentStats,
  type DueKind,
  ReplicationStore,
  type StoredEntry
} from './store.js'
import type { ReplicationHealth } from './types.js'

/** A managed key: its row, schedule and generation. */
export interface Entry extends StoredEntry {}

export type EntriesConfig = Pick<
  ReplicationConfig,
  'reprovideInterval' | 'republishInterval' | 'repairInterval' | 'jitter' | 'replicationFactor'
> &
  Partial<Pick<ReplicationConfig, 'enableSweep'>>

export interface ContentEntriesInit {
  /** Directory of `replication.sqlite`; undefined keeps the state in memory. */
  dataDir: string | undefined
  config: EntriesConfig
  /** Told of a commit of the state that failed (see `ReplicationStore`). */
  onCommitError?: (err: unknown) => void
}

/** Rows read per query when a caller walks every entry (`values()`). */
const PAGE = 512

/** What the rest of the manager reads and writes of the managed keys. */
export class ContentEntries {
  private readonly init: ContentEntriesInit
  /** key → the entry a job holds (the canonical copy while held). */
  private readonly held = new Map<string, Entry>()
  private readonly refs = new Map<Entry, number>()
  private db: ReplicationStore | undefined
  private writable = false
  private generation = Date.now() * 1000

  constructor(init: ContentEntriesInit) {
    this.init = init
  }

  /** Opens the store; reads no row (due times were persisted, spread out, when they were set). */
  open(): void {
    this.db = new ReplicationStore(this.init.dataDir, this.init.onCommitError)
    this.writable = true
  }

  /** Stops persisting schedule changes (jobs still draining keep their results in memory only). */
  seal(): void {
    this.writable = false
  }

  close(): void {
    this.writable = false
    this.db?.close()
    this.db = undefined
    this.held.clear()
    this.refs.clear()
  }

  /** The open store, or undefined when closed. */
  get store(): ReplicationStore | undefined {
    return this.db
  }

  /** Keys managed (a counter the database keeps). */
  get size(): number {
    return this.db?.stats().keys ?? 0
  }

  /** The counters over the managed keys (one row the database keeps). */
  stats(): ContentStats | undefined {
    return this.db?.stats()
  }

  get(key: string): Entry | undefined {
    return this.held.get(key) ?? this.db?.getContent(key)
  }

  has(key: string): boolean {
    return this.held.has(key) || this.db?.hasContent(key) === true
  }

  /** Managed keys (under `prefix` when given: a range of the primary key); without, a full pass. */
  keys(prefix?: string): string[] {
    return this.db?.contentKeys(prefix) ?? []
  }

  /**
   * Up to `n` pinned keys at random keyspace positions (one indexed read each; fewer when few are
   * pinned, repeats dropped).
   */
  samplePinned(n: number): string[] {
    const db = this.db
    if (db === undefined) return []
    const keys = new Set<string>()
    const end = new Uint8Array(32)
    for (let i = 0; i < n; i++) {
      const at = randomBytes(32)
      const key = (db.pinnedInRange(at, end, { limit: 1 })[0] ?? db.pinnedInRange(end, end, { limit: 1 })[0])
        ?.key
      if (key !== undefined) keys.add(key)
    }
    return [...keys]
  }

  /** Every entry, read a page at a time (a full pass: for start-up re-serving and tests). */
  *values(): Generator<Entry> {
    let after: string | undefined
    for (;;) {
      const page = this.db?.contentPage(after, PAGE) ?? []
      for (const e of page) yield this.held.get(e.key) ?? e
      const last = page.at(-1)
      if (page.length < PAGE || last == null) return
      after = last.key
    }
  }

  /** Entries whose `kind` job is due at `now`, earliest first, at most `limit` (held ones as held). */
  due(kind: DueKind, now: number, limit: number): Entry[] {
    return (this.db?.due(kind, now, limit) ?? []).map((e) => this.held.get(e.key) ?? e)
  }

  /** Whether this node holds (pins) the key's value. */
  holds(key: string): boolean {
    return this.db?.holdsValue(key) === true
  }

  /** Whether `entry` is still the managed one for its key (not removed or replaced). */
  isCurrent(entry: Entry): boolean {
    if (this.held.get(entry.key) === entry) return true
    return this.db?.generationOf(entry.key) === entry.generation
  }

  /** A job works on the entry until `release`: `get` answers with this object meanwhile. */
  hold(entry: Entry): void {
    this.refs.set(entry, (this.refs.get(entry) ?? 0) + 1)
    if (!this.held.has(entry.key) && this.isCurrent(entry)) this.held.set(entry.key, entry)
  }

  release(entry: Entry): void {
    const n = (this.refs.get(entry) ?? 1) - 1
    if (n > 0) {
      this.refs.set(entry, n)
      return
    }
    this.refs.delete(entry)
    if (this.held.get(entry.key) === entry) this.held.delete(entry.key)
  }

  /** Makes `entry` the managed one for its key and writes it (a given value replaces the pin). */
  set(entry: Entry, value?: Uint8Array): void {
    entry.generation = ++this.generation
    if (this.held.get(entry.key) !== entry) this.held.delete(entry.key)
    this.db?.upsertContent(entry, value)
  }

  /** Writes the entry's row (and the value, when given) even if not current. */
  write(entry: Entry, value?: Uint8Array): void {
    this.db?.upsertContent(entry, value)
  }

  /** Stops managing the key and drops its row, pin and provider entries. */
  delete(key: string): void {
    this.held.delete(key)
    this.db?.deleteContent(key)
  }

  /**
   * A known holder of them left: every pinned key `peer` is known to hold has its check brought
   * forward to `at` (plus up to `spreadMs`) and counts one more departed holder. One statement in
   * the database, and the entries jobs hold now (as many as the jobs queued) updated in memory.
   * Returns how many.
   */
  markPeerDeparted(peer: string, at: number, spreadMs: number): number {
    if (!this.writable || this.db == null) return 0
    const n = this.db.markPeerDeparted(peer, at, spreadMs)
    if (n === 0) return 0
    for (const [key, e] of this.held) {
      if (!e.pinned || !this.db.providers(key).some((r) => r.peer === peer)) continue
      e.nextRepairAt = Math.min(e.nextRepairAt, at + spreadMs)
      e.departed = (e.departed ?? 0) + 1
    }
    return n
  }

  /**
   * Every pinned key is checked by `at` plus up to `spreadMs` (unless sooner): this node's own
   * copy stopped counting. Returns how many rows changed.
   */
  bringForwardAll(at: number, spreadMs: number): number {
    if (!this.writable) return 0
    const changed = this.db?.bringForwardAll(at, spreadMs) ?? 0
    for (const e of this.held.values()) if (e.pinned) e.nextRepairAt = Math.min(e.nextRepairAt, at + spreadMs)
    return changed
  }

  /**
   * A DHT server became reachable: the pinned keys last found short of reachable holders (health
   * degraded or critical) are checked by `at`, held ones included. Returns how many rows changed.
   */
  bringForwardShort(at: number): number {
    if (!this.writable) return 0
    const changed = this.db?.bringForwardShort(at) ?? 0
    for (const e of this.held.values()) {
      if (e.pinned && e.lastHealth != null && e.lastHealth !== 'healthy')
        e.nextRepairAt = Math.min(e.nextRepairAt, at)
    }
    return changed
  }

  /** The records and bytes this node pinned because `peer` pushed them first. */
  usageOf(peer: string): PeerUsage {
    return this.db?.pushUsage(peer) ?? { records: 0, bytes: 0 }
  }

  /** The records and bytes this node pinned because other peers pushed them, all together. */
  totalUsage(): PeerUsage {
    return this.db?.pushUsageTotal() ?? { records: 0, bytes: 0 }
  }

  /** Whether one more record of `bytes` pushed by `peer` stays within its quota and the node's. */
  allowsPush(peer: string, bytes: number, limits: QuotaLimits): boolean {
    return withinQuota(this.usageOf(peer), this.totalUsage(), bytes, limits)
  }

  /** Writes a schedule change of the current entry (not after `seal()`, nor for a removed or replaced entry). */
  persist(entry: Entry): void {
    if (this.writable) this.db?.updateSchedule(entry)
  }

  /**
   * The holders of `keys` were confirmed (a region's sync): the per-key checks of the pinned keys
   * in good standing (not fresh, no failed repair) move as `times` says. One statement; a job
   * holding an entry writes its own schedule after.
   */
  confirmHolders(keys: readonly string[], times: ConfirmTimes): void {
    if (this.writable && keys.length > 0) this.db?.confirmHolders(keys, times)
  }

  /**
   * One step of the background backfill of rows an older version wrote (position, spread due
   * times), at most `limit` rows; returns whether rows remain.
   */
  backfill(limit: number): boolean {
    if (!this.writable) return false
    return this.db?.backfill(limit, this.init.config) ?? false
  }

  /** The pinned value of the key, if any. */
  value(key: string): Uint8Array | undefined {
    return this.db?.getValue(key)
  }

  /** SHA-256 of the pinned value of the key, if any. */
  digest(key: string): Uint8Array | undefined {
    return this.db?.getDigest(key)
  }

  /** The pinned value of the key and its SHA-256, when this node holds it. */
  pinnedValue(key: string): { value: Uint8Array; digest: Uint8Array } | undefined {
    const value = this.value(key)
    const digest = value == null ? undefined : this.digest(key)
    return value == null || digest == null ? undefined : { value, digest }
  }

  /** `healthy` at or above the factor, `critical` at none, `degraded` between. */
  healthOf(actual: number): ReplicationHealth {
    if (actual >= this.init.config.replicationFactor) return 'healthy'
    return actual === 0 ? 'critical' : 'degraded'
  }
}

export interface EntrySchedule {
  nextRepairAt: number
  nextProvideAt: number
  nextRepublishAt: number
  fresh?: boolean
}

/** A new entry (no check, no failures yet) with the given schedule. */
export function newEntry(
  row: Pick<ContentRow, 'key' | 'size' | 'priority' | 'createdAt' | 'pinned' | 'origin'> &
    Partial<
      Pick<
        ContentRow,
        'pushedBy' | 'lastReprovided' | 'lastRepublished' | 'lastChecked' | 'lastActual' | 'lastHealth'
      >
    >,
  schedule: EntrySchedule
): Entry {
  return {
    pushedBy: undefined,
    lastReprovided: undefined,
    lastRepublished: undefined,
    lastChecked: undefined,
    lastActual: undefined,
    lastHealth: undefined,
    ...row,
    repairFailures: 0,
    nextRepairAt: schedule.nextRepairAt,
    nextProvideAt: schedule.nextProvideAt,
    nextRepublishAt: schedule.nextRepublishAt,
    deferredUntil: undefined,
    provideFailures: 0,
    republishFailures: 0,
    fresh: schedule.fresh ?? false,
    departed: 0,
    generation: 0
  }
}
