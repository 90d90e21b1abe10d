/**
 * The local index's schema and queries (see `LocalIndex`).
 *
 * Why it is long: one data-access class with a prepared statement per query, and its schema.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { openDatabase, type TurnTransaction, turnTransaction } from '@chorus/common'
import type { UCXLAddress } from './address.js'
import type { Envelope } from './envelope.js'
import { hex } from './metadata.js'
import type { DecisionFields } from './write/decision-content.js'

export type IndexSource = 'stored' | 'retrieved' | 'replicated'

/** One indexed version: the envelope's metadata plus where it came from. */
export interface IndexRow {
  address: string
  version: number
  digest: string
  agent: string
  role: string
  project: string
  task: string
  path: string
  creator_role: string
  content_type: string
  encrypted_for: string
  timestamp: number
  size: number
  ciphertext_hash: string
  author: string
  envelope_hash: string
  previous: string | null
  source: IndexSource
  indexed_at: number
}

/** What this node knows of an address's chain: the pinned author and the highest version seen. */
export interface ChainState {
  address: string
  author: string
  highest: number
  highestHash: string
}

export interface IndexFilter {
  agent?: string
  role?: string
  project?: string
  task?: string
  creatorRole?: string
  contentType?: string
  createdAfter?: number
  createdBefore?: number
  /** A decision's own fields (only versions whose decision this node stored or opened match). */
  decisionTask?: string
  decisionAgent?: string
  decisionRole?: string
  allVersions: boolean
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS versions (
  address TEXT NOT NULL,
  version INTEGER NOT NULL,
  digest TEXT NOT NULL,
  agent TEXT NOT NULL,
  role TEXT NOT NULL,
  project TEXT NOT NULL,
  task TEXT NOT NULL,
  path TEXT NOT NULL,
  creator_role TEXT NOT NULL,
  content_type TEXT NOT NULL,
  encrypted_for TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  size INTEGER NOT NULL,
  ciphertext_hash TEXT NOT NULL,
  author TEXT NOT NULL,
  envelope_hash TEXT NOT NULL,
  previous TEXT,
  source TEXT NOT NULL,
  indexed_at INTEGER NOT NULL,
  envelope BLOB NOT NULL,
  PRIMARY KEY (address, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS versions_creator ON versions (creator_role, timestamp);
CREATE INDEX IF NOT EXISTS versions_time ON versions (timestamp);
CREATE TABLE IF NOT EXISTS chains (
  address TEXT PRIMARY KEY,
  author TEXT NOT NULL,
  highest INTEGER NOT NULL,
  highest_hash TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
  address TEXT NOT NULL,
  version INTEGER NOT NULL,
  envelope_hash TEXT NOT NULL,
  author TEXT NOT NULL,
  PRIMARY KEY (address, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tombstones (
  address TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  purge INTEGER NOT NULL,
  purged_below INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decisions (
  address TEXT NOT NULL,
  version INTEGER NOT NULL,
  task TEXT NOT NULL,
  author_agent TEXT NOT NULL,
  author_role TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  PRIMARY KEY (address, version)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_task ON decisions (task);
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
`

/**
 * The number of indexed versions, kept by triggers on every insert and delete so `count()` reads
 * one row; a database without it is counted once, when it opens the first time (the count runs
 * only then: an `INSERT OR IGNORE` of it counted every row at every open).
 */
const VERSION_COUNT = `
CREATE TABLE IF NOT EXISTS version_count (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO version_count (id, n) SELECT 1, (SELECT COUNT(*) FROM versions) WHERE NOT EXISTS (SELECT 1 FROM version_count);
CREATE TRIGGER IF NOT EXISTS versions_count_insert AFTER INSERT ON versions BEGIN
  UPDATE version_count SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS versions_count_delete AFTER DELETE ON versions BEGIN
  UPDATE version_count SET n = n - 1 WHERE id = 1;
END;
`

const COLUMNS =
  'address, version, digest, agent, role, project, task, path, creator_role, content_type, encrypted_for, timestamp, size, ciphertext_hash, author, envelope_hash, previous, source, indexed_at'

/**
 * The persistent local index (node:sqlite): every version this node stored, retrieved or was
 * given by replication, with its envelope; the chain state per address (anti-rollback); and the
 * audit log's head. Reads are synchronous (SQLite answers them in microseconds); writes are
 * group-committed, one transaction per event-loop turn, each resolving at its commit (a writer
 * that must be durable, a store about to be acknowledged, awaits it; the others need not).
 */
export class LocalIndex {
  private readonly db: DatabaseSync
  private readonly tx: TurnTransaction
  private readonly stmts: {
    insert: StatementSync
    getVersion: StatementSync
    getEnvelope: StatementSync
    getChain: StatementSync
    upsertChain: StatementSync
    count: StatementSync
    getAuditHead: StatementSync
    setAuditHead: StatementSync
    clearAuditHead: StatementSync
    getLink: StatementSync
    addLink: StatementSync
    getTombstone: StatementSync
    upsertTombstone: StatementSync
    allPurges: StatementSync
    purgeVersions: StatementSync
    addDecision: StatementSync
  }

  /** `path` of the database file, or `':memory:'` (tests). */
  constructor(path: string) {
    this.db = openDatabase(path, { synchronous: 'normal' })
    try {
      this.db.exec(SCHEMA)
      this.db.exec(`BEGIN IMMEDIATE; ${VERSION_COUNT} COMMIT;`)
      this.stmts = this.prepare()
      this.tx = turnTransaction(this.db)
    } catch (err) {
      this.db.close()
      throw err
    }
  }

  private prepare(): LocalIndex['stmts'] {
    return {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO versions (${COLUMNS}, envelope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      ),
      getVersion: this.db.prepare(`SELECT ${COLUMNS} FROM versions WHERE address = ? AND version = ?`),
      getEnvelope: this.db.prepare('SELECT envelope FROM versions WHERE address = ? AND version = ?'),
      getChain: this.db.prepare(
        'SELECT address, author, highest, highest_hash FROM chains WHERE address = ?'
      ),
      upsertChain: this.db.prepare(
        `INSERT INTO chains (address, author, highest, highest_hash, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET highest = excluded.highest, highest_hash = excluded.highest_hash,
         updated_at = excluded.updated_at WHERE excluded.highest > chains.highest`
      ),
      count: this.db.prepare('SELECT n FROM version_count WHERE id = 1'),
      getAuditHead: this.db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1'),
      clearAuditHead: this.db.prepare('DELETE FROM audit_head'),
      setAuditHead: this.db.prepare(
        'INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'
      ),
      getLink: this.db.prepare('SELECT envelope_hash, author FROM links WHERE address = ? AND version = ?'),
      addLink: this.db.prepare(
        'INSERT OR IGNORE INTO links (address, version, envelope_hash, author) VALUES (?, ?, ?, ?)'
      ),
      getTombstone: this.db.prepare('SELECT version, purge, purged_below FROM tombstones WHERE address = ?'),
      // the newest tombstone's version; a purge, once asked, covers the versions below its tombstone
      upsertTombstone: this.db.prepare(
        `INSERT INTO tombstones (address, version, purge, purged_below) VALUES (?, ?, ?, ?)
         ON CONFLICT (address) DO UPDATE SET version = MAX(tombstones.version, excluded.version),
         purge = MAX(tombstones.purge, excluded.purge),
         purged_below = MAX(tombstones.purged_below, excluded.purged_below)`
      ),
      allPurges: this.db.prepare('SELECT address, purged_below FROM tombstones WHERE purged_below > 0'),
      purgeVersions: this.db.prepare('DELETE FROM versions WHERE address = ? AND version < ?'),
      addDecision: this.db.prepare(
        'INSERT OR IGNORE INTO decisions (address, version, task, author_agent, author_role, decided_at) VALUES (?, ?, ?, ?, ?, ?)'
      )
    }
  }

  /** Adds a verified version (no-op when already indexed) and advances the chain state. */
  add(
    parsed: UCXLAddress,
    digest: string,
    e: Envelope,
    bytes: Uint8Array,
    envelopeHash: Uint8Array,
    source: IndexSource
  ): Promise<void> {
    const now = Date.now()
    const envHash = hex(envelopeHash)
    const author = hex(e.author)
    return this.write(() => {
      this.stmts.insert.run(
        e.address,
        e.version,
        digest,
        parsed.agent,
        parsed.role,
        parsed.project,
        parsed.task,
        parsed.path,
        e.metadata.creatorRole,
        e.metadata.contentType,
        JSON.stringify(e.metadata.encryptedFor),
        e.metadata.timestamp,
        e.metadata.size,
        hex(e.metadata.ciphertextHash),
        author,
        envHash,
        e.previous === null ? null : hex(e.previous),
        source,
        now,
        bytes
      )
      this.stmts.upsertChain.run(e.address, author, e.version, envHash, now)
    })
  }

  /** Runs `fn` all or nothing in this turn's transaction; resolves once that is committed. */
  private write(fn: () => void): Promise<void> {
    return this.tx.write(() => this.tx.atomically(fn))
  }

  /**
   * Keeps a decision's own fields for search: only for a version this node wrote or opened (the
   * content is encrypted; a replica it cannot read adds nothing). Bounded by the decision schema.
   */
  addDecision(address: string, version: number, d: DecisionFields): Promise<void> {
    return this.write(() =>
      this.stmts.addDecision.run(address, version, d.task, d.agent, d.role, d.decidedAt)
    )
  }

  getVersion(address: string, version: number): IndexRow | undefined {
    return this.stmts.getVersion.get(address, version) as IndexRow | undefined
  }

  getEnvelope(address: string, version: number): Uint8Array | undefined {
    const row = this.stmts.getEnvelope.get(address, version) as { envelope: Uint8Array } | undefined
    return row?.envelope
  }

  getChain(address: string): ChainState | undefined {
    const row = this.stmts.getChain.get(address) as
      | { address: string; author: string; highest: number; highest_hash: string }
      | undefined
    if (row === undefined) return undefined
    return { address: row.address, author: row.author, highest: row.highest, highestHash: row.highest_hash }
  }

  /**
   * A version this node trusts: indexed (stored, or retrieved after its chain was verified) or a
   * link verified while walking a chain back (`addLink`).
   */
  getTrusted(address: string, version: number): { hash: string; author: string } | undefined {
    const row = this.stmts.getVersion.get(address, version) as IndexRow | undefined
    if (row !== undefined) return { hash: row.envelope_hash, author: row.author }
    const link = this.stmts.getLink.get(address, version) as
      | { envelope_hash: string; author: string }
      | undefined
    return link === undefined ? undefined : { hash: link.envelope_hash, author: link.author }
  }

  /** Remembers a version whose chain back to a trusted version (or version 1) was verified. */
  addLink(address: string, version: number, hash: string, author: string): Promise<void> {
    return this.write(() => this.stmts.addLink.run(address, version, hash, author))
  }

  /**
   * Records a tombstone of `address` at `version` (only the newest counts); with `purge`, drops the
   * indexed envelopes of the versions before it (their links stay, so the chain stays verifiable).
   */
  addTombstone(address: string, version: number, purge: boolean): Promise<void> {
    return this.write(() => {
      if (purge) {
        const rows = this.db
          .prepare('SELECT version, envelope_hash, author FROM versions WHERE address = ? AND version < ?')
          .all(address, version) as { version: number; envelope_hash: string; author: string }[]
        for (const r of rows) this.stmts.addLink.run(address, Number(r.version), r.envelope_hash, r.author)
        this.stmts.purgeVersions.run(address, version)
      }
      this.stmts.upsertTombstone.run(address, version, purge ? 1 : 0, purge ? version : 0)
    })
  }

  /** The newest tombstone known for `address`: its version, and below which versions were purged. */
  getTombstone(address: string): { version: number; purgedBelow: number } | undefined {
    const row = this.stmts.getTombstone.get(address) as
      | { version: number; purge: number; purged_below: number }
      | undefined
    return row === undefined
      ? undefined
      : { version: Number(row.version), purgedBelow: Number(row.purged_below) }
  }

  /** Every address with purged versions, and the version below which they were purged. */
  purges(): { address: string; purgedBelow: number }[] {
    return (this.stmts.allPurges.all() as { address: string; purged_below: number }[]).map((r) => ({
      address: r.address,
      purgedBelow: Number(r.purged_below)
    }))
  }

  /** Indexed versions (a counter the database keeps: one row read). */
  count(): number {
    return Number((this.stmts.count.get() as { n: number } | undefined)?.n ?? 0)
  }

  /** Rows matching the filter, newest first; `accept` filters further in JS, `limit` bounds the result. */
  query(filter: IndexFilter, limit: number, accept?: (row: IndexRow) => boolean): IndexRow[] {
    const where: string[] = []
    const args: (string | number)[] = []
    const eq = (column: string, value: string | undefined): void => {
      if (value === undefined || value === 'any' || value === '*') return
      where.push(`v.${column} = ?`)
      args.push(value)
    }
    eq('agent', filter.agent)
    eq('role', filter.role)
    eq('project', filter.project)
    eq('task', filter.task)
    eq('creator_role', filter.creatorRole)
    eq('content_type', filter.contentType)
    if (filter.createdAfter !== undefined) {
      where.push('v.timestamp >= ?')
      args.push(filter.createdAfter)
    }
    if (filter.createdBefore !== undefined) {
      where.push('v.timestamp <= ?')
      args.push(filter.createdBefore)
    }
    const decided: string[] = []
    for (const [column, value] of [
      ['task', filter.decisionTask],
      ['author_agent', filter.decisionAgent],
      ['author_role', filter.decisionRole]
    ] as const) {
      if (value === undefined) continue
      decided.push(`d.${column} = ?`)
      args.push(value)
    }
    if (decided.length > 0) {
      where.push(
        `EXISTS (SELECT 1 FROM decisions d WHERE d.address = v.address AND d.version = v.version AND ${decided.join(' AND ')})`
      )
    }
    // the latest version of each address is its chain's highest (one row per address, kept by
    // add): grouping every version by address instead read the whole table on every list
    const latestOnly = filter.allVersions
      ? ''
      : 'JOIN chains c ON c.address = v.address AND c.highest = v.version'
    const cols = COLUMNS.split(', ')
      .map((c) => `v.${c}`)
      .join(', ')
    // a deleted address is not listed: only versions written after its newest tombstone are
    where.push('(t.version IS NULL OR v.version > t.version)')
    const sql = `SELECT ${cols} FROM versions v ${latestOnly} LEFT JOIN tombstones t ON t.address = v.address
      WHERE ${where.join(' AND ')}
      ORDER BY v.timestamp DESC, v.address ASC, v.version DESC`
    const out: IndexRow[] = []
    if (limit <= 0) return out
    for (const row of this.db.prepare(sql).iterate(...args) as Iterable<IndexRow>) {
      if (accept !== undefined && !accept(row)) continue
      out.push(row)
      if (out.length >= limit) break
    }
    return out
  }

  getAuditHead(): { seq: number; hash: string } | undefined {
    const row = this.stmts.getAuditHead.get() as { seq: number; hash: string } | undefined
    return row === undefined ? undefined : { seq: Number(row.seq), hash: row.hash }
  }

  setAuditHead(seq: number, hash: string): Promise<void> {
    return this.write(() => this.stmts.setAuditHead.run(seq, hash))
  }

  clearAuditHead(): Promise<void> {
    return this.write(() => this.stmts.clearAuditHead.run())
  }

  close(): void {
    this.tx.commit()
    if (this.db.isOpen) this.db.close()
  }
}
