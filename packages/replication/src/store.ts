/**
 * Persistent replication state in a node:sqlite database: managed content (with the pinned value,
 * its digest and the peer whose push made this node pin it), the provider entries seen per key
 * (candidates, and the proofs of possession they gave), and per-peer reachability. Everything
 * survives a restart.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { openDatabase } from '@chorus/common'
import { valueDigest } from './proof.js'
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

const SCHEMA = `
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
`

/** Columns added after the first schema: added to an older database when it opens. */
const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  content: { pushed_by: 'TEXT', value_digest: 'BLOB' },
  providers: { announced: 'INTEGER NOT NULL DEFAULT 0', proof_digest: 'BLOB', proven_at: 'INTEGER' }
}

type Row = Record<string, unknown>

const num = (v: unknown): number | undefined => (v == null ? undefined : Number(v))

function toContent(r: Row): ContentRow {
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
    nextRepairAt: Number(r.next_repair_at)
  }
}

const CONTENT_COLUMNS = `key, size, priority, created_at, value IS NOT NULL AS has_value, origin, pushed_by,
  last_reprovided, last_republished, last_checked, last_actual, last_health, repair_failures, next_repair_at`

const bytes = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined)

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

export class ReplicationStore {
  private readonly db: DatabaseSync

  /** Opens (creating when needed) `<dataDir>/replication.sqlite`, or an in-memory database. */
  constructor(dataDir: string | undefined) {
    let path: string | undefined
    if (dataDir != null) {
      mkdirSync(dataDir, { recursive: true })
      path = join(dataDir, 'replication.sqlite')
    }
    this.db = openDatabase(path)
    this.db.exec(SCHEMA)
    for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
      const have = new Set(
        this.db
          .prepare(`PRAGMA table_info(${table})`)
          .all()
          .map((r) => String(r.name))
      )
      for (const [name, decl] of Object.entries(columns)) {
        if (!have.has(name)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${decl}`)
      }
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close()
  }

  allContent(): ContentRow[] {
    return this.db.prepare(`SELECT ${CONTENT_COLUMNS} FROM content`).all().map(toContent)
  }

  getContent(key: string): ContentRow | undefined {
    const r = this.db.prepare(`SELECT ${CONTENT_COLUMNS} FROM content WHERE key = ?`).get(key)
    return r == null ? undefined : toContent(r)
  }

  getValue(key: string): Uint8Array | undefined {
    const r = this.db.prepare('SELECT value FROM content WHERE key = ?').get(key)
    return bytes(r?.value)
  }

  /** SHA-256 of the pinned value (computed once, when it was written). */
  getDigest(key: string): Uint8Array | undefined {
    const r = this.db
      .prepare('SELECT value_digest, value IS NOT NULL AS has_value FROM content WHERE key = ?')
      .get(key)
    if (r == null || Number(r.has_value) !== 1) return undefined
    const digest = bytes(r.value_digest)
    if (digest != null) return digest
    // a row written before digests were kept
    const value = this.getValue(key)
    return value == null ? undefined : valueDigest(value)
  }

  /** Inserts or updates a content entry; a given value replaces the pinned one. */
  upsertContent(c: ContentRow, value?: Uint8Array): void {
    this.db
      .prepare(
        `INSERT INTO content (key, size, priority, created_at, value, value_digest, origin, pushed_by, last_reprovided,
           last_republished, last_checked, last_actual, last_health, repair_failures, next_repair_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET size = excluded.size, priority = excluded.priority,
           value = COALESCE(excluded.value, content.value),
           value_digest = CASE WHEN excluded.value IS NULL THEN content.value_digest ELSE excluded.value_digest END,
           origin = excluded.origin, pushed_by = excluded.pushed_by,
           last_reprovided = excluded.last_reprovided, last_republished = excluded.last_republished,
           last_checked = excluded.last_checked, last_actual = excluded.last_actual,
           last_health = excluded.last_health, repair_failures = excluded.repair_failures,
           next_repair_at = excluded.next_repair_at`
      )
      .run(
        c.key,
        c.size,
        c.priority,
        c.createdAt,
        value ?? null,
        value == null ? null : valueDigest(value),
        c.origin,
        c.pushedBy ?? null,
        c.lastReprovided ?? null,
        c.lastRepublished ?? null,
        c.lastChecked ?? null,
        c.lastActual ?? null,
        c.lastHealth ?? null,
        c.repairFailures,
        c.nextRepairAt
      )
  }

  deleteContent(key: string): void {
    this.db.prepare('DELETE FROM content WHERE key = ?').run(key)
    this.db.prepare('DELETE FROM providers WHERE key = ?').run(key)
  }

  providers(key: string): ProviderRow[] {
    return this.db
      .prepare(
        'SELECT key, peer, added_at, last_seen, announced, proof_digest, proven_at FROM providers WHERE key = ?'
      )
      .all(key)
      .map(toProvider)
  }

  /**
   * Records `peer` as a provider candidate of `key`, seen at `seenAt` (keeps the first `addedAt`);
   * `announced` when the peer announced it itself (a DHT provider record).
   */
  touchProvider(key: string, peer: string, seenAt: number, announced = false): void {
    this.db
      .prepare(
        `INSERT INTO providers (key, peer, added_at, last_seen, announced) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(key, peer) DO UPDATE SET last_seen = MAX(providers.last_seen, excluded.last_seen),
           announced = MAX(providers.announced, excluded.announced)`
      )
      .run(key, peer, seenAt, seenAt, announced ? 1 : 0)
  }

  /** Records that `peer` proved at `at` that it holds the value of `key` whose digest is `digest`. */
  recordProof(key: string, peer: string, digest: Uint8Array, at: number): void {
    this.db
      .prepare(
        `INSERT INTO providers (key, peer, added_at, last_seen, proof_digest, proven_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(key, peer) DO UPDATE SET last_seen = MAX(providers.last_seen, excluded.last_seen),
           proof_digest = excluded.proof_digest, proven_at = excluded.proven_at`
      )
      .run(key, peer, at, at, digest, at)
  }

  /** Forgets that `peer` was said to provide `key` (it could not prove it). */
  dropProvider(key: string, peer: string): void {
    this.db.prepare('DELETE FROM providers WHERE key = ? AND peer = ?').run(key, peer)
  }

  /** Peers that proved at some time that they held some version of the key. */
  provenPeers(key: string): string[] {
    return this.db
      .prepare('SELECT peer FROM providers WHERE key = ? AND proof_digest IS NOT NULL')
      .all(key)
      .map((r) => String(r.peer))
  }

  /** Keys the peer is recorded as providing. */
  keysProvidedBy(peer: string): string[] {
    return this.db
      .prepare('SELECT key FROM providers WHERE peer = ?')
      .all(peer)
      .map((r) => String(r.key))
  }

  countProviders(): number {
    const r = this.db.prepare('SELECT COUNT(*) AS n FROM providers').get()
    return Number(r?.n ?? 0)
  }

  /** Drops provider entries last seen before `olderThan`; returns how many. */
  expireProviders(olderThan: number): number {
    return Number(this.db.prepare('DELETE FROM providers WHERE last_seen < ?').run(olderThan).changes)
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
    const r = this.db.prepare('SELECT peer, quality, last_seen FROM peers WHERE peer = ?').get(peer)
    return r == null
      ? undefined
      : { peer: String(r.peer), quality: Number(r.quality), lastSeen: num(r.last_seen) }
  }

  putPeer(p: PeerRow): void {
    this.db
      .prepare(
        `INSERT INTO peers (peer, quality, last_seen) VALUES (?, ?, ?)
         ON CONFLICT(peer) DO UPDATE SET quality = excluded.quality, last_seen = excluded.last_seen`
      )
      .run(p.peer, p.quality, p.lastSeen ?? null)
  }
}
