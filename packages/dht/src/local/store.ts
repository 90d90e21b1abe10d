import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { openDatabase, type TurnTransaction, turnTransaction } from '@chorus/common'

/** The file the local DHT keeps its records and provider entries in, inside `dataDir`. */
export const LOCAL_DHT_FILE = 'local-dht.sqlite'

export interface StoredRecord {
  value: Uint8Array
  updatedAt: number
}

/**
 * Records and provider entries in SQLite (node:sqlite). WAL mode so readers never block the
 * writer; `synchronous` decides whether every commit is fsynced ('full') or only at checkpoints
 * ('normal': survives a process crash, may lose the last commits on power loss).
 */
export class RecordStore {
  readonly #db: DatabaseSync
  /** Writes are group-committed, one transaction per event-loop turn; each resolves at its commit. */
  readonly #tx: TurnTransaction
  readonly #get: StatementSync
  readonly #put: StatementSync
  readonly #count: StatementSync
  readonly #provide: StatementSync
  readonly #provided: StatementSync
  readonly #providerCount: StatementSync

  constructor(dataDir: string | undefined, synchronous: 'normal' | 'full') {
    let location: string | undefined
    if (dataDir !== undefined) {
      mkdirSync(dataDir, { recursive: true })
      location = join(dataDir, LOCAL_DHT_FILE)
    }
    // WAL for a file, the chosen `synchronous`, a 5 s busy timeout
    this.#db = openDatabase(location, { synchronous })
    try {
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS records (
          key TEXT PRIMARY KEY,
          value BLOB NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS providers (
          key TEXT PRIMARY KEY,
          provided_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `)
      this.#get = this.#db.prepare('SELECT value, updated_at AS updatedAt FROM records WHERE key = ?')
      this.#put = this.#db.prepare(
        'INSERT INTO records (key, value, updated_at) VALUES (?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at'
      )
      this.#count = this.#db.prepare('SELECT count(*) AS n FROM records')
      this.#provide = this.#db.prepare(
        'INSERT INTO providers (key, provided_at) VALUES (?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET provided_at = excluded.provided_at'
      )
      this.#provided = this.#db.prepare('SELECT provided_at AS providedAt FROM providers WHERE key = ?')
      this.#providerCount = this.#db.prepare('SELECT count(*) AS n FROM providers')
      this.#tx = turnTransaction(this.#db)
    } catch (err) {
      this.#db.close()
      throw err
    }
  }

  get(key: string): StoredRecord | undefined {
    const row = this.#get.get(key) as { value: Uint8Array; updatedAt: number } | undefined
    if (row === undefined) return undefined
    return { value: new Uint8Array(row.value), updatedAt: row.updatedAt }
  }

  /** Resolves once the write is committed (rejects with the commit's error: a full disk). */
  put(key: string, value: Uint8Array, now: number): Promise<void> {
    return this.#tx.write(() => this.#put.run(key, value, now))
  }

  /** Drops the record for `key`; whether there was one, once that is committed. */
  async remove(key: string): Promise<boolean> {
    let removed = false
    await this.#tx.write(() => {
      removed = Number(this.#db.prepare('DELETE FROM records WHERE key = ?').run(key).changes) > 0
    })
    return removed
  }

  count(): number {
    return Number((this.#count.get() as { n: number | bigint }).n)
  }

  provide(key: string, now: number): Promise<void> {
    return this.#tx.write(() => this.#provide.run(key, now))
  }

  isProvided(key: string): boolean {
    return this.#provided.get(key) !== undefined
  }

  providerCount(): number {
    return Number((this.#providerCount.get() as { n: number | bigint }).n)
  }

  close(): void {
    this.#tx.commit()
    if (this.#db.isOpen) this.#db.close()
  }
}
