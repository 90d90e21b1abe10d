/**
 * Persistent replication state in a node:sqlite database: managed content (with the pinned value),
 * the provider entries seen per key, and per-peer reachability. Everything survives a restart.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync } from 'node:sqlite'
import { openDatabase } from '@chorus/common'
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
    lastReprovided: num(r.last_reprovided),
    lastRepublished: num(r.last_republished),
    lastChecked: num(r.last_checked),
    lastActual: num(r.last_actual),
    lastHealth: r.last_health == null ? undefined : (String(r.last_health) as ReplicationHealth),
    repairFailures: Number(r.repair_failures),
    nextRepairAt: Number(r.next_repair_at)
  }
}

const CONTENT_COLUMNS = `key, size, priority, created_at, value IS NOT NULL AS has_value, origin, last_reprovided,
  last_republished, last_checked, last_actual, last_health, repair_failures, next_repair_at`

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
    const v = r?.value
    return v instanceof Uint8Array ? v : undefined
  }

  /** Inserts or updates a content entry; a given value replaces the pinned one. */
  upsertContent(c: ContentRow, value?: Uint8Array): void {
    this.db
      .prepare(
        `INSERT INTO content (key, size, priority, created_at, value, origin, last_reprovided, last_republished,
           last_checked, last_actual, last_health, repair_failures, next_repair_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET size = excluded.size, priority = excluded.priority,
           value = COALESCE(excluded.value, content.value), origin = excluded.origin,
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
        c.origin,
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
      .prepare('SELECT key, peer, added_at, last_seen FROM providers WHERE key = ?')
      .all(key)
      .map((r) => ({
        key: String(r.key),
        peer: String(r.peer),
        addedAt: Number(r.added_at),
        lastSeen: Number(r.last_seen)
      }))
  }

  /** Records that `peer` provides `key`, seen at `seenAt` (keeps the first `addedAt`). */
  touchProvider(key: string, peer: string, seenAt: number): void {
    this.db
      .prepare(
        `INSERT INTO providers (key, peer, added_at, last_seen) VALUES (?, ?, ?, ?)
         ON CONFLICT(key, peer) DO UPDATE SET last_seen = MAX(providers.last_seen, excluded.last_seen)`
      )
      .run(key, peer, seenAt, seenAt)
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

  /** Keeps only the `max` most recently seen provider entries of each key; returns how many were dropped. */
  capProviders(max: number): number {
    return Number(
      this.db
        .prepare(
          `DELETE FROM providers WHERE rowid IN (
             SELECT rowid FROM (
               SELECT rowid, ROW_NUMBER() OVER (PARTITION BY key ORDER BY last_seen DESC) AS rn FROM providers
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
