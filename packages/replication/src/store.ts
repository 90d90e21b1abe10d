/**
 * Persistent replication state in a node:sqlite database (schema and upgrades: `schema.ts`):
 * managed content (with the pinned value, its digest, its keyspace position, its schedule and the
 * peer whose push made this node pin it), the provider entries seen per key (candidates, and the
 * proofs of possession they gave), per-peer reachability, and counters the database keeps on
 * every write. Everything survives a restart; nothing here reads every row.
 *
 * Why it is long: it is the package's one data-access layer, one short method per query.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { openDatabase, type TurnTransaction, turnTransaction } from '@chorus/common'
import { keyPosition } from '@chorus/dht'
import { valueDigest } from './proof.js'
import type { PeerUsage } from './quota.js'
import { migrate } from './schema.js'
import type { PinnedInRange } from './sweep/ranges.js'
import { republishEvery } from './timing.js'
import type { ReplicationHealth } from './types.js'

export interface ContentRow {
  key: string
  size: number
  priority: number
  createdAt: number
  /** Whether the value is pinned in this database (this node is a holder). */
  pinned: boolean
  /** `local` when added by this node's application, `replica` when pushed by a peer. */
  origin: 'local' | 'replica'
  /**
   * The peer whose push made this node pin the key (its first pusher), charged against that
   * peer's quota; undefined for the application's own keys.
   */
  pushedBy: string | undefined
  lastReprovided: number | undefined
  lastRepublished: number | undefined
  lastChecked: number | undefined
  lastActual: number | undefined
  lastHealth: ReplicationHealth | undefined
  repairFailures: number
  nextRepairAt: number
}

/** The schedule of a managed key, persisted next to its row. */
export interface ContentSchedule {
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

/** A managed key's row and schedule, as stored. */
export interface StoredEntry extends ContentRow, ContentSchedule {
  /** Changes when the entry is replaced: a holder of an older one no longer writes it. */
  generation: number
}

/** Counters over the managed keys, maintained by the database on every write. */
export interface ContentStats {
  keys: number
  pinned: number
  /** Bytes of the pinned values. */
  pinnedBytes: number
  /** Keys checked at least once, and the sum of their live holders at their last check. */
  checked: number
  actualSum: number
  healthy: number
  degraded: number
  critical: number
}

/**
 * When a region's sync confirmed its keys' holders: each per-key repair check due before `before`
 * waits until `until`, less up to `spreadMs` (spread, so that they do not all come due at once).
 */
export interface ConfirmTimes {
  before: number
  until: number
  spreadMs: number
}

/** The spread of the first due times of rows the backfill fills (each uniform over its interval). */
export interface BackfillSpread {
  reprovideInterval: number
  republishInterval: number
  enableSweep?: boolean | undefined
}

export interface ProviderRow {
  key: string
  peer: string
  addedAt: number
  lastSeen: number
  /** The peer announced itself as a provider (a DHT provider record), not only named by others. */
  announced: boolean
  /** Digest of the value it last proved it holds, and when; undefined before any proof. */
  proofDigest: Uint8Array | undefined
  provenAt: number | undefined
}

export interface PeerRow {
  peer: string
  quality: number
  lastSeen: number | undefined
}

type Row = Record<string, unknown>

const num = (v: unknown): number | undefined => (v == null ? undefined : Number(v))
const bytes = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined)

function toEntry(r: Row): StoredEntry {
  const nextRepairAt = Number(r.next_repair_at)
  return {
    key: String(r.key),
    size: Number(r.size),
    priority: Number(r.priority),
    createdAt: Number(r.created_at),
    pinned: Number(r.has_value) === 1,
    origin: r.origin === 'replica' ? 'replica' : 'local',
    pushedBy: r.pushed_by == null ? undefined : String(r.pushed_by),
    lastReprovided: num(r.last_reprovided),
    lastRepublished: num(r.last_republished),
    lastChecked: num(r.last_checked),
    lastActual: num(r.last_actual),
    lastHealth: r.last_health == null ? undefined : (String(r.last_health) as ReplicationHealth),
    repairFailures: Number(r.repair_failures),
    nextRepairAt,
    // a row the backfill has not reached yet: due with its repair check
    nextProvideAt: num(r.next_provide_at) ?? nextRepairAt,
    nextRepublishAt: num(r.next_republish_at) ?? nextRepairAt,
    deferredUntil: num(r.deferred_until),
    provideFailures: Number(r.provide_failures ?? 0),
    republishFailures: Number(r.republish_failures ?? 0),
    fresh: Number(r.fresh ?? 0) === 1,
    departed: Number(r.departed ?? 0),
    generation: Number(r.generation ?? 0)
  }
}

const CONTENT_COLUMNS = `key, size, priority, created_at, value IS NOT NULL AS has_value, origin, pushed_by,
  last_reprovided, last_republished, last_checked, last_actual, last_health, repair_failures, next_repair_at,
  next_provide_at, next_republish_at, deferred_until, provide_failures, republish_failures, fresh, departed,
  generation`

/** The schedule columns a job writes back (`persist`). */
const SCHEDULE_SET = `last_reprovided = ?, last_republished = ?, last_checked = ?, last_actual = ?, last_health = ?,
  repair_failures = ?, next_repair_at = ?, next_provide_at = ?, next_republish_at = ?, deferred_until = ?,
  provide_failures = ?, republish_failures = ?, fresh = ?, departed = ?`

function scheduleValues(c: ContentRow & Partial<ContentSchedule>): Array<number | string | null> {
  return [
    c.lastReprovided ?? null,
    c.lastRepublished ?? null,
    c.lastChecked ?? null,
    c.lastActual ?? null,
    c.lastHealth ?? null,
    c.repairFailures,
    c.nextRepairAt,
    c.nextProvideAt ?? c.nextRepairAt,
    c.nextRepublishAt ?? c.nextRepairAt,
    c.deferredUntil ?? null,
    c.provideFailures ?? 0,
    c.republishFailures ?? 0,
    c.fresh === true ? 1 : 0,
    c.departed ?? 0
  ]
}

function toProvider(r: Row): ProviderRow {
  return {
    key: String(r.key),
    peer: String(r.peer),
    addedAt: Number(r.added_at),
    lastSeen: Number(r.last_seen),
    announced: Number(r.announced) === 1,
    proofDigest: bytes(r.proof_digest),
    provenAt: num(r.proven_at)
  }
}

/** Due rows of each kind of job: the index each query walks is named in `schema.ts`. */
const DUE: Record<DueKind, string> = {
  urgent: 'next_repair_at <= ? AND departed > 0 ORDER BY next_repair_at',
  repair: 'next_repair_at <= ? ORDER BY next_repair_at',
  'repair-unpinned': 'next_repair_at <= ? AND value IS NULL ORDER BY next_repair_at',
  provide: 'next_provide_at <= ? AND value IS NOT NULL ORDER BY next_provide_at',
  republish: 'next_republish_at <= ? AND value IS NOT NULL ORDER BY next_republish_at'
}

/** What the scheduler asks: repairs of keys whose holders left first (`urgent`), then the rest. */
export type DueKind = 'urgent' | 'repair' | 'repair-unpinned' | 'provide' | 'republish'

export class ReplicationStore {
  private readonly db: DatabaseSync
  private readonly statements = new Map<string, StatementSync>()
  private readonly tx: TurnTransaction
  /** Rows read by the content queries since the store opened (what a test of start-up work counts). */
  rowsRead = 0

  /**
   * Opens (creating or upgrading when needed) `<dataDir>/replication.sqlite`, or an in-memory
   * database. Statements run in one transaction per event-loop turn, committed when the turn ends
   * (`setImmediate`): a store's pin, provider notes and schedule are several writes, and a commit
   * each cost most of their time. A crash can lose the last turn's writes, which are all state
   * this node rebuilds (own content is handed back from the index at start, a replica's holders
   * push it again with the sweep); `onCommitError` hears of a commit that failed (a full disk).
   */
  constructor(dataDir: string | undefined, onCommitError: (err: unknown) => void = () => {}) {
    let path: string | undefined
    if (dataDir != null) {
      mkdirSync(dataDir, { recursive: true })
      path = join(dataDir, 'replication.sqlite')
    }
    this.db = openDatabase(path)
    try {
      migrate(this.db)
    } catch (err) {
      this.db.close()
      throw err
    }
    this.tx = turnTransaction(this.db, { onCommitError })
  }

  close(): void {
    this.commit()
    this.statements.clear()
    if (this.db.isOpen) this.db.close()
  }

  /** Commits this turn's transaction now. */
  commit(): void {
    this.tx.commit()
  }

  /** A prepared statement, prepared once, run in this turn's transaction. */
  private sql(text: string): StatementSync {
    this.tx.enter()
    let s = this.statements.get(text)
    if (s == null) {
      s = this.db.prepare(text)
      this.statements.set(text, s)
    }
    return s
  }

  private entries(rows: Row[]): StoredEntry[] {
    this.rowsRead += rows.length
    return rows.map(toEntry)
  }

  /** Runs `fn` all or nothing (a savepoint in this turn's transaction). */
  transaction<T>(fn: () => T): T {
    return this.tx.atomically(fn)
  }

  // ------------------------------------------------------------------ content

  getContent(key: string): StoredEntry | undefined {
    const r = this.sql(`SELECT ${CONTENT_COLUMNS} FROM content WHERE key = ?`).get(key)
    return r == null ? undefined : this.entries([r])[0]
  }

  /** Whether the key is managed. */
  hasContent(key: string): boolean {
    return this.sql('SELECT 1 FROM content WHERE key = ?').get(key) != null
  }

  /** Whether the key's value is pinned here. */
  holdsValue(key: string): boolean {
    return this.sql('SELECT 1 FROM content WHERE key = ? AND value IS NOT NULL').get(key) != null
  }

  /** The entry's generation, or undefined when the key is not managed. */
  generationOf(key: string): number | undefined {
    return num(this.sql('SELECT generation FROM content WHERE key = ?').get(key)?.generation)
  }

  /** Managed keys in key order; with `prefix`, only those under it (a range of the primary key). */
  contentKeys(prefix?: string): string[] {
    const rows =
      prefix == null
        ? this.sql('SELECT key FROM content ORDER BY key').all()
        : // U+10FFFF encodes above every UTF-8 character: the range holds exactly the prefixed keys
          this.sql('SELECT key FROM content WHERE key >= ? AND key < ? ORDER BY key').all(
            prefix,
            `${prefix}\u{10FFFF}`
          )
    return rows.map((r) => String(r.key))
  }

  /** Managed entries after `afterKey` in key order, at most `limit`. */
  contentPage(afterKey: string | undefined, limit: number): StoredEntry[] {
    const rows =
      afterKey == null
        ? this.sql(`SELECT ${CONTENT_COLUMNS} FROM content ORDER BY key LIMIT ?`).all(limit)
        : this.sql(`SELECT ${CONTENT_COLUMNS} FROM content WHERE key > ? ORDER BY key LIMIT ?`).all(
            afterKey,
            limit
          )
    return this.entries(rows)
  }

  /** Entries whose `kind` job is due at `now`, earliest first, at most `limit`. */
  due(kind: DueKind, now: number, limit: number): StoredEntry[] {
    return this.entries(
      this.sql(`SELECT ${CONTENT_COLUMNS} FROM content WHERE ${DUE[kind]} LIMIT ?`).all(now, limit)
    )
  }

  getValue(key: string): Uint8Array | undefined {
    const r = this.sql('SELECT value FROM content WHERE key = ?').get(key)
    return bytes(r?.value)
  }

  /** The pinned value of the key, if any (the keyspace sweep reads values by key). */
  valueOf(key: string): Uint8Array | undefined {
    return this.getValue(key)
  }

  /** SHA-256 of the pinned value (computed once, when it was written). */
  getDigest(key: string): Uint8Array | undefined {
    const r = this.sql('SELECT value_digest, value IS NOT NULL AS has_value FROM content WHERE key = ?').get(
      key
    )
    if (r == null || Number(r.has_value) !== 1) return undefined
    const digest = bytes(r.value_digest)
    if (digest != null) return digest
    // a row written before digests were kept
    const value = this.getValue(key)
    return value == null ? undefined : valueDigest(value)
  }

  /**
   * Inserts or updates a content entry with its schedule; a given value replaces the pinned one.
   * A row given without a schedule is due for provide and republish with its repair check.
   */
  upsertContent(
    c: ContentRow & Partial<ContentSchedule> & { generation?: number },
    value?: Uint8Array
  ): void {
    this.sql(
      `INSERT INTO content (key, size, priority, created_at, value, value_digest, origin, pushed_by, position,
         generation, last_reprovided, last_republished, last_checked, last_actual, last_health, repair_failures,
         next_repair_at, next_provide_at, next_republish_at, deferred_until, provide_failures, republish_failures,
         fresh, departed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET size = excluded.size, priority = excluded.priority,
         value = COALESCE(excluded.value, content.value),
         value_digest = CASE WHEN excluded.value IS NULL THEN content.value_digest ELSE excluded.value_digest END,
         origin = excluded.origin, pushed_by = excluded.pushed_by, position = excluded.position,
         generation = excluded.generation,
         last_reprovided = excluded.last_reprovided, last_republished = excluded.last_republished,
         last_checked = excluded.last_checked, last_actual = excluded.last_actual,
         last_health = excluded.last_health, repair_failures = excluded.repair_failures,
         next_repair_at = excluded.next_repair_at, next_provide_at = excluded.next_provide_at,
         next_republish_at = excluded.next_republish_at, deferred_until = excluded.deferred_until,
         provide_failures = excluded.provide_failures, republish_failures = excluded.republish_failures,
         fresh = excluded.fresh, departed = excluded.departed`
    ).run(
      c.key,
      c.size,
      c.priority,
      c.createdAt,
      value ?? null,
      value == null ? null : valueDigest(value),
      c.origin,
      c.pushedBy ?? null,
      keyPosition(c.key),
      c.generation ?? 0,
      ...scheduleValues(c)
    )
  }

  /**
   * Writes the entry's checks and schedule when the stored entry is still of its generation (not
   * removed or replaced since it was read); returns whether it was.
   */
  updateSchedule(c: StoredEntry): boolean {
    const r = this.sql(`UPDATE content SET ${SCHEDULE_SET} WHERE key = ? AND generation = ?`).run(
      ...scheduleValues(c),
      c.key,
      c.generation
    )
    return Number(r.changes) > 0
  }

  /** See `ContentEntries.confirmHolders`; returns how many rows it wrote. */
  confirmHolders(keys: readonly string[], times: ConfirmTimes): number {
    const r = this.sql(
      `UPDATE content SET next_repair_at = ? - abs(random() % ?)
       WHERE key IN (SELECT value FROM json_each(?)) AND value IS NOT NULL AND fresh = 0
         AND repair_failures = 0 AND next_repair_at < ?`
    ).run(times.until, Math.max(1, Math.floor(times.spreadMs)), JSON.stringify(keys), times.before)
    return Number(r.changes)
  }

  /**
   * A known holder left: every pinned key `peer` is known to hold counts one more departed holder
   * and its check comes forward to `at` plus up to `spreadMs` (spread, so that they do not all
   * come due at once), in one indexed statement however many keys there are. Returns how many.
   */
  markPeerDeparted(peer: string, at: number, spreadMs: number): number {
    const r = this.sql(
      `UPDATE content SET next_repair_at = MIN(next_repair_at, ? + abs(random() % ?)), departed = departed + 1
       WHERE value IS NOT NULL AND key IN (SELECT key FROM providers WHERE peer = ?)`
    ).run(at, Math.max(1, Math.floor(spreadMs)), peer)
    return Number(r.changes)
  }

  /** Every pinned key comes due by `at` plus up to `spreadMs` (unless sooner). Returns how many rows changed. */
  bringForwardAll(at: number, spreadMs: number): number {
    const r = this.sql(
      `UPDATE content SET next_repair_at = MIN(next_repair_at, ? + abs(random() % ?))
       WHERE value IS NOT NULL AND next_repair_at > ?`
    ).run(at, Math.max(1, Math.floor(spreadMs)), at)
    return Number(r.changes)
  }

  /**
   * A DHT server became reachable: the pinned keys last found short of reachable holders come due
   * by `at` (unless sooner). Returns how many rows it touched.
   */
  bringForwardShort(at: number): number {
    const r = this.sql(
      `UPDATE content SET next_repair_at = MIN(next_repair_at, ?)
       WHERE last_health IN ('degraded', 'critical') AND value IS NOT NULL AND next_repair_at > ?`
    ).run(at, at)
    return Number(r.changes)
  }

  deleteContent(key: string): void {
    this.sql('DELETE FROM content WHERE key = ?').run(key)
    this.sql('DELETE FROM providers WHERE key = ?').run(key)
  }

  /** The counters over the managed keys (one row, kept by the database). */
  stats(): ContentStats {
    const r = this.sql('SELECT * FROM content_stats WHERE id = 1').get() ?? {}
    return {
      keys: Number(r.keys ?? 0),
      pinned: Number(r.pinned ?? 0),
      pinnedBytes: Number(r.pinned_bytes ?? 0),
      checked: Number(r.checked ?? 0),
      actualSum: Number(r.actual_sum ?? 0),
      healthy: Number(r.healthy ?? 0),
      degraded: Number(r.degraded ?? 0),
      critical: Number(r.critical ?? 0)
    }
  }

  /** The records and bytes this node pinned because `peer` pushed them first (one row). */
  pushUsage(peer: string): PeerUsage {
    const r = this.sql('SELECT records, bytes FROM push_usage WHERE peer = ?').get(peer)
    return { records: Number(r?.records ?? 0), bytes: Number(r?.bytes ?? 0) }
  }

  /** What all pushers made this node pin (one row per pusher: a short sum). */
  pushUsageTotal(): PeerUsage {
    const r = this.sql('SELECT SUM(records) AS records, SUM(bytes) AS bytes FROM push_usage').get()
    return { records: Number(r?.records ?? 0), bytes: Number(r?.bytes ?? 0) }
  }

  /**
   * Pinned keys whose position is in [`lo`, `hi`) and above `after` (when given), by position, at
   * most `limit`, each with its value's digest. Positions compare as bytes
   * (memcmp); a `hi` of 32 zero bytes means no upper bound (the end of the keyspace, 2^256,
   * wrapped). Rows of an older database appear once the backfill gave them a position.
   */
  pinnedInRange(
    lo: Uint8Array,
    hi: Uint8Array,
    options: { after?: Uint8Array; limit: number }
  ): PinnedInRange[] {
    const limit = Math.max(0, Math.floor(options.limit))
    const after = options.after != null && compareBytes(options.after, lo) >= 0 ? options.after : undefined
    const lower = after == null ? 'position >= ?' : 'position > ?'
    const unbounded = hi.every((b) => b === 0)
    // read from the sweep's covering index alone (content_pinned_position), never from the rows
    const text = `SELECT key, position, value_digest FROM content
       WHERE ${lower} ${unbounded ? '' : 'AND position < ?'} AND value IS NOT NULL ORDER BY position LIMIT ?`
    const rows = unbounded
      ? this.sql(text).all(after ?? lo, limit)
      : this.sql(text).all(after ?? lo, hi, limit)
    this.rowsRead += rows.length
    const out: PinnedInRange[] = []
    for (const r of rows) {
      const key = String(r.key)
      const digest = bytes(r.value_digest) ?? this.getDigest(key)
      const position = bytes(r.position)
      if (digest == null || position == null) continue
      out.push({ key, position, digest })
    }
    return out
  }

  /** How many keys `pinnedInRange` would give without `after`, counting at most `limit` (the index alone). */
  countPinnedInRange(lo: Uint8Array, hi: Uint8Array, limit: number): number {
    const unbounded = hi.every((b) => b === 0)
    const text = `SELECT COUNT(*) AS n FROM (SELECT 1 FROM content
       WHERE position >= ? ${unbounded ? '' : 'AND position < ?'} AND value IS NOT NULL LIMIT ?)`
    const max = Math.max(0, Math.floor(limit))
    const r = unbounded ? this.sql(text).get(lo, max) : this.sql(text).get(lo, hi, max)
    return Number(r?.n ?? 0)
  }

  /**
   * Fills, for at most `limit` rows after the persisted cursor, what rows of an older database
   * lack: the position, and first provide and republish due times spread uniformly over their
   * intervals. Returns whether rows remain (false once the backfill is done, or never needed).
   */
  backfill(limit: number, spread: BackfillSpread, now = Date.now()): boolean {
    const cursor = num(this.sql(`SELECT value FROM meta WHERE name = 'backfill_rowid'`).get()?.value)
    if (cursor == null) return false
    const rows = this.sql(
      `SELECT rowid, key, position IS NULL AS no_position, next_provide_at IS NULL AS no_provide,
         next_republish_at IS NULL AS no_republish FROM content WHERE rowid > ? ORDER BY rowid LIMIT ?`
    ).all(cursor, limit)
    this.transaction(() => {
      const fill = this.sql(
        `UPDATE content SET position = COALESCE(position, ?),
           next_provide_at = COALESCE(next_provide_at, ?), next_republish_at = COALESCE(next_republish_at, ?)
         WHERE rowid = ?`
      )
      for (const r of rows) {
        if (Number(r.no_position) + Number(r.no_provide) + Number(r.no_republish) === 0) continue
        fill.run(
          keyPosition(String(r.key)),
          now + Math.round(Math.random() * spread.reprovideInterval),
          now + Math.round(Math.random() * republishEvery(spread)),
          Number(r.rowid)
        )
      }
      const last = rows.at(-1)
      if (rows.length < limit || last == null)
        this.sql(`DELETE FROM meta WHERE name = 'backfill_rowid'`).run()
      else this.sql(`UPDATE meta SET value = ? WHERE name = 'backfill_rowid'`).run(Number(last.rowid))
    })
    return rows.length >= limit
  }

  // ---------------------------------------------------------------- providers

  providers(key: string): ProviderRow[] {
    return this.sql(
      'SELECT key, peer, added_at, last_seen, announced, proof_digest, proven_at FROM providers WHERE key = ?'
    )
      .all(key)
      .map(toProvider)
  }

  /**
   * Records `peer` as a provider candidate of `key`, seen at `seenAt` (keeps the first `addedAt`);
   * `announced` when the peer announced it itself (a DHT provider record). A row seen less than
   * `refreshAfter` ms before is left as it is (no write: the sweep sees every holder every pass).
   */
  touchProvider(key: string, peer: string, seenAt: number, announced = false, refreshAfter = 0): void {
    this.sql(
      `INSERT INTO providers (key, peer, added_at, last_seen, announced) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(key, peer) DO UPDATE SET last_seen = MAX(providers.last_seen, excluded.last_seen),
           announced = MAX(providers.announced, excluded.announced)
         WHERE excluded.last_seen >= providers.last_seen + ? OR excluded.announced > providers.announced`
    ).run(key, peer, seenAt, seenAt, announced ? 1 : 0, refreshAfter)
  }

  /**
   * Records that `peer` proved at `at` that it holds the value of `key` whose digest is `digest`.
   * A proof of the same digest less than `refreshAfter` ms older is left as it is (no write).
   */
  recordProof(key: string, peer: string, digest: Uint8Array, at: number, refreshAfter = 0): void {
    this.sql(
      `INSERT INTO providers (key, peer, added_at, last_seen, proof_digest, proven_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(key, peer) DO UPDATE SET last_seen = MAX(providers.last_seen, excluded.last_seen),
           proof_digest = excluded.proof_digest, proven_at = excluded.proven_at
         WHERE providers.proof_digest IS NOT excluded.proof_digest OR providers.proven_at IS NULL
           OR excluded.proven_at >= providers.proven_at + ?`
    ).run(key, peer, at, at, digest, at, refreshAfter)
  }

  /** Forgets that `peer` was said to provide `key` (it could not prove it). */
  dropProvider(key: string, peer: string): void {
    this.sql('DELETE FROM providers WHERE key = ? AND peer = ?').run(key, peer)
  }

  /** Peers that proved at some time that they held some version of the key. */
  provenPeers(key: string): string[] {
    return this.sql('SELECT peer FROM providers WHERE key = ? AND proof_digest IS NOT NULL')
      .all(key)
      .map((r) => String(r.peer))
  }

  /** Provider entries across all keys (a counter the database keeps). */
  countProviders(): number {
    const r = this.sql('SELECT providers FROM content_stats WHERE id = 1').get()
    return Number(r?.providers ?? 0)
  }

  /** Drops provider entries last seen before `olderThan`; returns how many. */
  expireProviders(olderThan: number): number {
    return Number(this.sql('DELETE FROM providers WHERE last_seen < ?').run(olderThan).changes)
  }

  /**
   * Keeps only `max` provider entries per key, proven ones first, then the most recently seen (so
   * names nobody proved cannot push out holders that did); returns how many were dropped.
   */
  capProviders(max: number): number {
    return Number(
      this.db
        .prepare(
          `DELETE FROM providers WHERE rowid IN (
             SELECT rowid FROM (
               SELECT rowid, ROW_NUMBER() OVER (
                 PARTITION BY key ORDER BY proof_digest IS NOT NULL DESC, last_seen DESC
               ) AS rn FROM providers
             ) WHERE rn > ?)`
        )
        .run(max).changes
    )
  }

  getPeer(peer: string): PeerRow | undefined {
    const r = this.sql('SELECT peer, quality, last_seen FROM peers WHERE peer = ?').get(peer)
    return r == null
      ? undefined
      : { peer: String(r.peer), quality: Number(r.quality), lastSeen: num(r.last_seen) }
  }

  putPeer(p: PeerRow): void {
    this.sql(
      `INSERT INTO peers (peer, quality, last_seen) VALUES (?, ?, ?)
         ON CONFLICT(peer) DO UPDATE SET quality = excluded.quality, last_seen = excluded.last_seen`
    ).run(p.peer, p.quality, p.lastSeen ?? null)
  }
}

/** memcmp order of two byte strings (a prefix sorts first). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}
