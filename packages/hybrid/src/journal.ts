import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { errorText, openDatabase } from '@chorus/common'
import { JournalError } from './errors.js'

/** The journal file inside `dataDir`. */
export const JOURNAL_FILE = 'hybrid-journal.sqlite'

export type JournalOp = 'put' | 'provide'

export interface JournalEntry {
  seq: number
  op: JournalOp
  key: string
  /** The value of a `put`; empty for a `provide`. */
  value: Uint8Array
  createdAt: number
  attempts: number
}

/**
 * The write journal: writes the network has not acknowledged yet, in SQLite (node:sqlite) so they
 * survive a restart. `seq` orders them. A write for a key supersedes the older ones of the same op
 * and key, so replay sends only the latest value per key, in the order of those latest writes.
 */
export class Journal {
  readonly #db: DatabaseSync
  readonly #append: StatementSync
  readonly #latest: StatementSync
  readonly #remove: StatementSync
  readonly #failed: StatementSync
  readonly #byKey: StatementSync
  /** Pending entries per `op\0key`, so the hot paths never query SQLite to route a read. */
  readonly #pending = new Map<string, number>()
  #size = 0

  constructor(dataDir: string | undefined, synchronous: 'normal' | 'full') {
    try {
      if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true })
      // WAL for a file, the chosen `synchronous`, a 5 s busy timeout.
      this.#db = openDatabase(dataDir === undefined ? undefined : join(dataDir, JOURNAL_FILE), {
        synchronous
      })
    } catch (err) {
      throw new JournalError(`cannot open the write journal in ${dataDir}: ${errorText(err)}`, { cause: err })
    }
    try {
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS journal (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          op TEXT NOT NULL,
          key TEXT NOT NULL,
          value BLOB NOT NULL,
          created_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS journal_op_key ON journal (op, key, seq);
      `)
      this.#append = this.#db.prepare(
        'INSERT INTO journal (op, key, value, created_at) VALUES (?, ?, ?, ?) RETURNING seq'
      )
      // The latest entry of each (op, key), oldest first.
      this.#latest = this.#db.prepare(`
        SELECT seq, op, key, value, created_at AS createdAt, attempts FROM journal j
        WHERE seq = (SELECT max(seq) FROM journal WHERE op = j.op AND key = j.key)
        ORDER BY seq LIMIT ?`)
      this.#remove = this.#db.prepare('DELETE FROM journal WHERE op = ? AND key = ? AND seq <= ?')
      this.#failed = this.#db.prepare('UPDATE journal SET attempts = attempts + 1 WHERE seq = ?')
      this.#byKey = this.#db.prepare('SELECT op, key, count(*) AS n FROM journal GROUP BY op, key')
      for (const row of this.#byKey.all() as Array<{ op: string; key: string; n: number | bigint }>) {
        const n = Number(row.n)
        this.#pending.set(slot(row.op as JournalOp, row.key), n)
        this.#size += n
      }
    } catch (err) {
      this.#db.close()
      throw new JournalError(`cannot read the write journal: ${errorText(err)}`, { cause: err })
    }
  }

  /** Entries waiting for the network. */
  get size(): number {
    return this.#size
  }

  has(op: JournalOp, key: string): boolean {
    return this.#pending.has(slot(op, key))
  }

  append(op: JournalOp, key: string, value: Uint8Array): number {
    let seq: number
    try {
      const row = this.#append.get(op, key, value, Date.now()) as { seq: number | bigint }
      seq = Number(row.seq)
    } catch (err) {
      throw new JournalError(`cannot journal ${op} ${key}: ${errorText(err)}`, { cause: err })
    }
    const s = slot(op, key)
    this.#pending.set(s, (this.#pending.get(s) ?? 0) + 1)
    this.#size++
    return seq
  }

  /** Up to `limit` entries to replay: the latest per (op, key), in journal order. */
  next(limit: number): JournalEntry[] {
    const rows = this.#latest.all(limit) as Array<{
      seq: number | bigint
      op: JournalOp
      key: string
      value: Uint8Array
      createdAt: number | bigint
      attempts: number | bigint
    }>
    return rows.map((r) => ({
      seq: Number(r.seq),
      op: r.op,
      key: r.key,
      value: new Uint8Array(r.value),
      createdAt: Number(r.createdAt),
      attempts: Number(r.attempts)
    }))
  }

  /** The entry reached the network: drop it and every older entry it superseded. */
  done(entry: JournalEntry): void {
    const removed = Number(this.#remove.run(entry.op, entry.key, entry.seq).changes)
    const s = slot(entry.op, entry.key)
    const left = (this.#pending.get(s) ?? 0) - removed
    if (left > 0) this.#pending.set(s, left)
    else this.#pending.delete(s)
    this.#size -= removed
  }

  failed(entry: JournalEntry): void {
    this.#failed.run(entry.seq)
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close()
  }
}

function slot(op: JournalOp, key: string): string {
  return `${op}\0${key}`
}
