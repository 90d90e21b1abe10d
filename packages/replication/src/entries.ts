/**
 * The entry model: the keys this node manages, each an in-memory {@link Entry} (its schedule)
 * over its persisted content row (and pinned value) in the SQLite {@link ReplicationStore}, and
 * the per-peer tally of what peers' pushes made this node pin ({@link PushUsage}).
 * `open()` loads the rows with a fresh schedule; `close()` closes the store.
 */
import type { ReplicationConfig } from './config.js'
import { type PeerUsage, PushUsage, type QuotaLimits } from './quota.js'
import { type ContentRow, ReplicationStore } from './store.js'
import { withJitter } from './timing.js'
import type { ReplicationHealth } from './types.js'

/** In-memory schedule of a managed key, next to its persisted row. */
export interface Entry extends ContentRow {
  nextProvideAt: number
  nextRepublishAt: number
  /** Set while a non-closest holder waits for closer holders to repair first. */
  deferredUntil: number | undefined
  provideFailures: number
  republishFailures: number
  /**
   * Set by `addContent` when the value is new or changed: the next repair pushes it to the known
   * live holders (so they get the new version) and to the closest peers, without a provider lookup.
   */
  fresh: boolean
  /**
   * Known holders that disconnected since the last check: a record that lost more of them is
   * closer to being lost, so its repair goes first.
   */
  departed?: number
}

export type EntriesConfig = Pick<
  ReplicationConfig,
  'reprovideInterval' | 'republishInterval' | 'repairInterval' | 'jitter' | 'replicationFactor'
>

export interface ContentEntriesInit {
  /** Directory of `replication.sqlite`; undefined keeps the state in memory. */
  dataDir: string | undefined
  config: EntriesConfig
}

/** What the rest of the manager reads and writes of the managed keys. */
export class ContentEntries {
  private readonly init: ContentEntriesInit
  private readonly map = new Map<string, Entry>()
  private readonly usage = new PushUsage()
  private db: ReplicationStore | undefined
  private writable = false

  constructor(init: ContentEntriesInit) {
    this.init = init
  }

  /** Opens the store and loads every row; after a restart each key is announced and checked soon. */
  open(now = Date.now()): void {
    const store = new ReplicationStore(this.init.dataDir)
    const c = this.init.config
    for (const row of store.allContent()) {
      this.map.set(row.key, {
        ...row,
        // after a restart every key is announced again soon and checked, spread out by jitter
        nextProvideAt: now + withJitter(Math.min(c.reprovideInterval, 2000), 1),
        nextRepublishAt:
          row.lastRepublished == null
            ? now + withJitter(Math.min(c.republishInterval, 5000), 1)
            : row.lastRepublished + withJitter(c.republishInterval, c.jitter),
        nextRepairAt: now + withJitter(Math.min(c.repairInterval, 5000), 1),
        deferredUntil: undefined,
        provideFailures: 0,
        republishFailures: 0,
        fresh: false
      })
      this.usage.charge(row.key, row.pushedBy, row.size)
    }
    this.db = store
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
    this.map.clear()
    this.usage.clear()
  }

  /** The open store, or undefined when closed. */
  get store(): ReplicationStore | undefined {
    return this.db
  }

  get size(): number {
    return this.map.size
  }

  get(key: string): Entry | undefined {
    return this.map.get(key)
  }

  has(key: string): boolean {
    return this.map.has(key)
  }

  keys(): string[] {
    return [...this.map.keys()]
  }

  values(): IterableIterator<Entry> {
    return this.map.values()
  }

  /** Whether this node holds (pins) the key's value. */
  holds(key: string): boolean {
    return this.map.get(key)?.pinned === true
  }

  /** Whether `entry` is still the managed one for its key (not removed or replaced). */
  isCurrent(entry: Entry): boolean {
    return this.map.get(entry.key) === entry
  }

  /** Makes `entry` the managed one for its key and writes it (a given value replaces the pin). */
  set(entry: Entry, value?: Uint8Array): void {
    this.map.set(entry.key, entry)
    this.db?.upsertContent(entry, value)
    this.usage.charge(entry.key, entry.pushedBy, entry.size)
  }

  /** Writes the entry's row (and the value, when given) even if not current. */
  write(entry: Entry, value?: Uint8Array): void {
    this.db?.upsertContent(entry, value)
    if (this.isCurrent(entry)) this.usage.charge(entry.key, entry.pushedBy, entry.size)
  }

  /** Stops managing the key and drops its row, pin and provider entries. */
  delete(key: string): void {
    this.map.delete(key)
    this.db?.deleteContent(key)
    this.usage.release(key)
  }

  /** The records and bytes this node pinned because `peer` pushed them first. */
  usageOf(peer: string): PeerUsage {
    return this.usage.of(peer)
  }

  /** Whether one more record of `bytes` pushed by `peer` stays within its quota. */
  allowsPush(peer: string, bytes: number, limits: QuotaLimits): boolean {
    return this.usage.allows(peer, bytes, limits)
  }

  /** Writes a schedule change of the current entry (not after `seal()`, nor for a removed entry). */
  persist(entry: Entry): void {
    if (this.writable && this.isCurrent(entry)) this.db?.upsertContent(entry)
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
    if (!this.holds(key)) return undefined
    const value = this.value(key)
    const digest = this.digest(key)
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
    fresh: schedule.fresh ?? false
  }
}
