/**
 * The schema of `replication.sqlite` and its upgrades. Everything the scheduler and the status
 * read is in the database, with indexes on what they ask:
 *
 * - `content`: one row per managed key with its value (when pinned), its schedule (next repair,
 *   provide and republish due times, failures, deferral, `fresh`, `departed`) and its place in the
 *   Kademlia keyspace (`position`, SHA-256 of the key's bytes);
 * - `content_stats`: one row of counters (keys, pinned, pinned bytes, checked, by health,
 *   provider entries), maintained by triggers on every write, so a status call reads one row;
 * - `push_usage`: per pushing peer, the records and bytes its pushes made this node pin, maintained
 *   by triggers, so a quota check reads one row;
 * - `meta`: the cursor of the background backfill of rows written before these columns existed.
 *
 * A database of an older version is upgraded when it opens: columns and indexes are added, and
 * the counters are computed once (one aggregate query, in the upgrade's transaction). Rows that
 * predate `position` and the persisted schedule are filled later, in batches, by
 * `ReplicationStore.backfill` (never on the open's path).
 */
import type { DatabaseSync } from 'node:sqlite'

/** `PRAGMA user_version` of the current schema. */
export const SCHEMA_VERSION = 3

const TABLES = `
CREATE TABLE IF NOT EXISTS content (
  key TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  value BLOB,
  origin TEXT NOT NULL,
  last_reprovided INTEGER,
  last_republished INTEGER,
  last_checked INTEGER,
  last_actual INTEGER,
  last_health TEXT,
  repair_failures INTEGER NOT NULL DEFAULT 0,
  next_repair_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS providers (
  key TEXT NOT NULL,
  peer TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (key, peer)
);
CREATE INDEX IF NOT EXISTS providers_by_peer ON providers (peer);
CREATE TABLE IF NOT EXISTS peers (
  peer TEXT PRIMARY KEY,
  quality REAL NOT NULL,
  last_seen INTEGER
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER
);
`

/** Columns added after the first schema: added to an older database when it opens. */
const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  content: {
    pushed_by: 'TEXT',
    value_digest: 'BLOB',
    // the schedule (NULL in rows of an older database until the backfill reaches them)
    next_provide_at: 'INTEGER',
    next_republish_at: 'INTEGER',
    deferred_until: 'INTEGER',
    provide_failures: 'INTEGER NOT NULL DEFAULT 0',
    republish_failures: 'INTEGER NOT NULL DEFAULT 0',
    fresh: 'INTEGER NOT NULL DEFAULT 0',
    departed: 'INTEGER NOT NULL DEFAULT 0',
    /** Changes whenever the entry is replaced: a job holding an older one no longer writes it. */
    generation: 'INTEGER NOT NULL DEFAULT 0',
    /** SHA-256 of the key's bytes: its place in the Kademlia keyspace. */
    position: 'BLOB'
  },
  providers: { announced: 'INTEGER NOT NULL DEFAULT 0', proof_digest: 'BLOB', proven_at: 'INTEGER' }
}

/** What the scheduler and the keyspace sweep ask. */
const INDEXES = `
CREATE INDEX IF NOT EXISTS content_repair_due ON content (next_repair_at);
CREATE INDEX IF NOT EXISTS content_repair_urgent ON content (next_repair_at) WHERE departed > 0;
CREATE INDEX IF NOT EXISTS content_unpinned_due ON content (next_repair_at) WHERE value IS NULL;
CREATE INDEX IF NOT EXISTS content_provide_due ON content (next_provide_at) WHERE value IS NOT NULL;
CREATE INDEX IF NOT EXISTS content_republish_due ON content (next_republish_at) WHERE value IS NOT NULL;
CREATE INDEX IF NOT EXISTS content_health ON content (last_health);
`

/**
 * The sweep's index (schema 3): pinned keys in keyspace order with what a summary reads of them,
 * so a region is read from the index alone, never from the rows with their values (4-5x faster
 * per region, and a count of a region does not touch the rows at all).
 */
const SWEEP_INDEX = `
CREATE INDEX IF NOT EXISTS content_pinned_position ON content (position, key, value_digest)
  WHERE value IS NOT NULL;
DROP INDEX IF EXISTS content_position;
`

/** One row's contribution to each counter, for `r` = NEW or OLD. */
const contribution = (r: string): Record<string, string> => ({
  keys: '1',
  pinned: `(${r}.value IS NOT NULL)`,
  pinned_bytes: `COALESCE(length(${r}.value), 0)`,
  checked: `(${r}.last_actual IS NOT NULL)`,
  actual_sum: `COALESCE(${r}.last_actual, 0)`,
  healthy: `(${r}.last_actual IS NOT NULL AND ${r}.last_health = 'healthy')`,
  degraded: `(${r}.last_actual IS NOT NULL AND ${r}.last_health = 'degraded')`,
  critical: `(${r}.last_actual IS NOT NULL AND ${r}.last_health = 'critical')`
})

const STAT_COLUMNS = Object.keys(contribution('NEW'))

function statsUpdate(plus: string | undefined, minus: string | undefined): string {
  const p = plus == null ? undefined : contribution(plus)
  const m = minus == null ? undefined : contribution(minus)
  const set = STAT_COLUMNS.map(
    (c) => `${c} = ${c}${p == null ? '' : ` + ${p[c]}`}${m == null ? '' : ` - ${m[c]}`}`
  )
  return `UPDATE content_stats SET ${set.join(', ')} WHERE id = 1;`
}

const charge = (r: string): string =>
  `INSERT INTO push_usage (peer, records, bytes) SELECT ${r}.pushed_by, 1, ${r}.size WHERE ${r}.pushed_by IS NOT NULL
     ON CONFLICT(peer) DO UPDATE SET records = records + 1, bytes = bytes + excluded.bytes;`
const release = (r: string): string =>
  `UPDATE push_usage SET records = records - 1, bytes = bytes - ${r}.size WHERE peer = ${r}.pushed_by;
   DELETE FROM push_usage WHERE peer = ${r}.pushed_by AND records <= 0;`

/** The counters' tables, their one-time fill from the rows, and the triggers that keep them. */
const COUNTERS = `
CREATE TABLE content_stats (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  ${STAT_COLUMNS.map((c) => `${c} INTEGER NOT NULL`).join(',\n  ')},
  providers INTEGER NOT NULL
);
INSERT INTO content_stats (id, ${STAT_COLUMNS.join(', ')}, providers)
  SELECT 1, ${STAT_COLUMNS.map((c) => `COALESCE(SUM(${contribution('content')[c]}), 0)`).join(', ')},
    (SELECT COUNT(*) FROM providers) FROM content;
CREATE TRIGGER providers_count_insert AFTER INSERT ON providers BEGIN
  UPDATE content_stats SET providers = providers + 1 WHERE id = 1;
END;
CREATE TRIGGER providers_count_delete AFTER DELETE ON providers BEGIN
  UPDATE content_stats SET providers = providers - 1 WHERE id = 1;
END;
CREATE TABLE push_usage (
  peer TEXT PRIMARY KEY,
  records INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
INSERT INTO push_usage (peer, records, bytes)
  SELECT pushed_by, COUNT(*), SUM(size) FROM content WHERE pushed_by IS NOT NULL GROUP BY pushed_by;
CREATE TRIGGER content_counters_insert AFTER INSERT ON content BEGIN
  ${statsUpdate('NEW', undefined)}
  ${charge('NEW')}
END;
CREATE TRIGGER content_counters_delete AFTER DELETE ON content BEGIN
  ${statsUpdate(undefined, 'OLD')}
  ${release('OLD')}
END;
CREATE TRIGGER content_counters_update AFTER UPDATE OF value, last_actual, last_health ON content
  WHEN OLD.last_actual IS NOT NEW.last_actual OR OLD.last_health IS NOT NEW.last_health
    OR length(OLD.value) IS NOT length(NEW.value) BEGIN
  ${statsUpdate('NEW', 'OLD')}
END;
CREATE TRIGGER content_usage_update AFTER UPDATE OF pushed_by, size ON content
  WHEN OLD.pushed_by IS NOT NEW.pushed_by OR OLD.size IS NOT NEW.size BEGIN
  ${release('OLD')}
  ${charge('NEW')}
END;
`

/** Creates or upgrades the schema (rows of an older version are left to the backfill). */
export function migrate(db: DatabaseSync): void {
  db.exec(TABLES)
  for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
    const have = new Set(
      db
        .prepare(`PRAGMA table_info(${table})`)
        .all()
        .map((r) => String(r.name))
    )
    for (const [name, decl] of Object.entries(columns)) {
      if (!have.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${decl}`)
    }
  }
  const version = Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0)
  if (version >= SCHEMA_VERSION) return
  db.exec('BEGIN IMMEDIATE')
  try {
    if (version < 2) {
      db.exec(INDEXES)
      db.exec(COUNTERS)
      // rows written before the schedule and position columns: filled in the background, by rowid
      const pending = db.prepare('SELECT rowid FROM content LIMIT 1').get() != null
      if (pending) db.exec(`INSERT OR REPLACE INTO meta (name, value) VALUES ('backfill_rowid', 0)`)
    }
    db.exec(SWEEP_INDEX)
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    db.exec('COMMIT')
  } catch (err) {
    db.exec('ROLLBACK')
    throw err
  }
}
