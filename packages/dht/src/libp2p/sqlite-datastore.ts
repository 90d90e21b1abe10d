/**
 * The node's datastore (kad-dht's records and provider records, libp2p's peer store) in one
 * SQLite file, replacing LevelDB. Measured under a sustained store load on five agent processes,
 * LevelDB was about a quarter of a receiving node's CPU: every miss crosses the thread pool and
 * throws, and a store misses several times (held record, stale check, `has` before the write).
 * node:sqlite answers a point read in microseconds on the calling thread.
 *
 * Writes are group-committed: the first write of an event-loop turn opens a transaction and the
 * turn's end (`setImmediate`) commits it, so a burst of writes costs one commit; each write
 * resolves once its turn's commit did, and rejects with the commit's error (a full disk is
 * `SQLITE_FULL`, as from any store of ours). Reads on this connection see the turn's writes at
 * once. The database is opened in exclusive locking mode: a second node on the same data
 * directory fails to open it instead of sharing it.
 *
 * A data directory from before (LevelDB files in the same directory) is copied in once, at the
 * first open, and its LevelDB files are removed after the copy is committed (`migrateLevelDB`).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { openDatabase, type TurnTransaction, turnTransaction } from '@chorus/common'
import type { AbortOptions } from '@libp2p/interface'
import { BaseDatastore } from 'datastore-core'
import { Key, type KeyQuery, type Pair, type Query } from 'interface-datastore'
import { NotFoundError } from 'interface-store'

/** The database file inside the datastore directory. */
export const DATASTORE_FILE = 'datastore.sqlite'
/** Rows a query reads at a time (keyset pages: bounded memory, safe against writes between pages). */
const QUERY_PAGE = 256
/** Sorts after every character a datastore key uses. */
const KEY_END = '\u{10FFFF}'

type Statements = Record<
  'get' | 'has' | 'put' | 'del' | 'first' | 'next' | 'firstKeys' | 'nextKeys',
  StatementSync
>

/** A datastore that keeps the number of keys under some prefixes as they are written. */
export interface KeyCounter {
  /** The keys under `prefix` (keys starting with `prefix/`), or undefined when it is not counted. */
  countKeys(prefix: string): number | undefined
}

export interface SqliteDatastoreInit {
  /**
   * Prefixes (such as kad-dht's `/dht/record`) whose keys the database counts as they are written
   * and deleted (triggers), so `countKeys` answers without a scan. A database that had no count of
   * one is counted once, when it opens. Letters, digits, `/`, `_` and `-` only.
   * @default []
   */
  countedPrefixes?: readonly string[]
}

const COUNTED_PREFIX = /^[A-Za-z0-9/_-]{1,200}$/

export class SqliteDatastore extends BaseDatastore implements KeyCounter {
  readonly #path: string
  readonly #counted: readonly string[]
  #db: DatabaseSync | undefined
  #stmts: Statements | undefined
  #countOf: StatementSync | undefined
  /** The group commit: one transaction per event-loop turn. */
  #tx: TurnTransaction | undefined

  constructor(path: string, init: SqliteDatastoreInit = {}) {
    super()
    this.#path = path
    this.#counted = init.countedPrefixes ?? []
    for (const p of this.#counted) {
      if (!COUNTED_PREFIX.test(p))
        throw new TypeError('a counted prefix may hold letters, digits, /, _ and - only')
    }
  }

  async open(): Promise<void> {
    if (this.#db !== undefined) return
    // a second node on this directory waits at most a second for the lock, then fails
    const db = openDatabase(this.#path, { busyTimeoutMs: 1_000 })
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE')
      // take the lock now: a second node on this directory fails here, not at its first write
      db.exec('BEGIN IMMEDIATE; COMMIT')
      db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID')
      countKeysOnWrite(db, this.#counted)
      this.#countOf = db.prepare('SELECT keys FROM key_counts WHERE prefix = ?')
      this.#stmts = {
        get: db.prepare('SELECT value FROM kv WHERE key = ?'),
        has: db.prepare('SELECT 1 AS one FROM kv WHERE key = ?'),
        put: db.prepare(
          'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'
        ),
        del: db.prepare('DELETE FROM kv WHERE key = ?'),
        first: db.prepare('SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
        next: db.prepare('SELECT key, value FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?'),
        firstKeys: db.prepare('SELECT key FROM kv WHERE key >= ? AND key < ? ORDER BY key LIMIT ?'),
        nextKeys: db.prepare('SELECT key FROM kv WHERE key > ? AND key < ? ORDER BY key LIMIT ?')
      }
    } catch (err) {
      db.close()
      throw err
    }
    this.#db = db
    this.#tx = turnTransaction(db)
  }

  async close(): Promise<void> {
    const db = this.#db
    if (db === undefined) return
    this.#tx?.commit()
    this.#db = undefined
    this.#tx = undefined
    this.#stmts = undefined
    this.#countOf = undefined
    db.close()
  }

  #statements(): Statements {
    if (this.#stmts === undefined) throw new Error('the datastore is not open')
    return this.#stmts
  }

  /**
   * Runs `write` in the turn's transaction (opened by the turn's first write, committed when the
   * turn ends) and resolves once that commit did.
   */
  #write(write: (stmts: Statements) => unknown): Promise<void> {
    const stmts = this.#statements()
    return this.#tx!.write(() => write(stmts))
  }

  /** Commits the writes of this turn now (they are committed at its end otherwise). */
  flush(): void {
    this.#tx?.commit()
  }

  override async put(key: Key, value: Uint8Array, _options?: AbortOptions): Promise<Key> {
    await this.#write((s) => s.put.run(key.toString(), value))
    return key
  }

  override async get(key: Key, _options?: AbortOptions): Promise<Uint8Array> {
    const row = this.#statements().get.get(key.toString()) as { value: Uint8Array } | undefined
    if (row === undefined) throw new NotFoundError()
    return row.value
  }

  countKeys(prefix: string): number | undefined {
    if (!this.#counted.includes(prefix)) return undefined
    const row = this.#countOf?.get(prefix) as { keys: number } | undefined
    return row === undefined ? undefined : Number(row.keys)
  }

  /** The value under `key`, or undefined: a miss without an exception. */
  async getIfPresent(key: Key, _options?: AbortOptions): Promise<Uint8Array | undefined> {
    return (this.#statements().get.get(key.toString()) as { value: Uint8Array } | undefined)?.value
  }

  override async has(key: Key, _options?: AbortOptions): Promise<boolean> {
    return this.#statements().has.get(key.toString()) !== undefined
  }

  override async delete(key: Key, _options?: AbortOptions): Promise<void> {
    await this.#write((s) => s.del.run(key.toString()))
  }

  override async *_all(q: Query, _options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const rows of this.#pages<{ key: string; value: Uint8Array }>(q.prefix, 'first', 'next'))
      for (const row of rows) yield { key: new Key(row.key, false), value: row.value }
  }

  override async *_allKeys(q: KeyQuery, _options?: AbortOptions): AsyncGenerator<Key> {
    for await (const rows of this.#pages<{ key: string }>(q.prefix, 'firstKeys', 'nextKeys'))
      for (const row of rows) yield new Key(row.key, false)
  }

  /** The rows whose key starts with `prefix`, in key order, a page at a time. */
  async *#pages<Row extends { key: string }>(
    prefix: string | undefined,
    first: 'first' | 'firstKeys',
    next: 'next' | 'nextKeys'
  ): AsyncGenerator<Row[]> {
    const from = prefix ?? ''
    const to = `${from}${KEY_END}`
    let rows = this.#statements()[first].all(from, to, QUERY_PAGE) as Row[]
    for (;;) {
      yield rows
      if (rows.length < QUERY_PAGE) return
      rows = this.#statements()[next].all(rows[rows.length - 1]!.key, to, QUERY_PAGE) as Row[]
    }
  }
}

/**
 * Keeps `key_counts` for each prefix: a trigger per insert and delete of a key under it (an
 * overwrite is an update: not counted twice), and one count of the keys already there when the
 * prefix has no row yet. Prefixes are checked (`COUNTED_PREFIX`) before they are written into SQL.
 */
function countKeysOnWrite(db: DatabaseSync, prefixes: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS key_counts (prefix TEXT PRIMARY KEY, keys INTEGER NOT NULL)')
  for (const prefix of prefixes) {
    // keys under the prefix: from "prefix/" up to "prefix0" ('0' follows '/')
    const lo = `'${prefix}/'`
    const hi = `'${prefix}0'`
    const id = Buffer.from(prefix).toString('hex')
    db.exec(`BEGIN;
      INSERT INTO key_counts (prefix, keys)
        SELECT '${prefix}', (SELECT COUNT(*) FROM kv WHERE key >= ${lo} AND key < ${hi})
        WHERE NOT EXISTS (SELECT 1 FROM key_counts WHERE prefix = '${prefix}');
      CREATE TRIGGER IF NOT EXISTS key_count_insert_${id} AFTER INSERT ON kv
        WHEN NEW.key >= ${lo} AND NEW.key < ${hi}
        BEGIN UPDATE key_counts SET keys = keys + 1 WHERE prefix = '${prefix}'; END;
      CREATE TRIGGER IF NOT EXISTS key_count_delete_${id} AFTER DELETE ON kv
        WHEN OLD.key >= ${lo} AND OLD.key < ${hi}
        BEGIN UPDATE key_counts SET keys = keys - 1 WHERE prefix = '${prefix}'; END;
      COMMIT;`)
  }
}

/** LevelDB's marker file: a datastore directory from before holds one. */
const LEVELDB_MARKER = 'CURRENT'
/** Entries copied per turn while migrating (one group commit each). */
const MIGRATE_CHUNK = 1024

/**
 * Copies a LevelDB datastore left in `dir` by an earlier version into `store` (open), commits, and
 * removes the LevelDB files; resolves to the entries copied (0 when there was none). A copy cut
 * short leaves the LevelDB files in place, and the next open copies again (a put of the same key
 * replaces it).
 */
export async function migrateLevelDB(dir: string, store: SqliteDatastore): Promise<number> {
  if (!existsSync(join(dir, LEVELDB_MARKER))) return 0
  const { LevelDatastore } = await import('datastore-level')
  const level = new LevelDatastore(dir)
  await level.open()
  let copied = 0
  try {
    let chunk: Pair[] = []
    const write = async (): Promise<void> => {
      // one turn, one commit for the whole chunk
      const puts = chunk.map(({ key, value }) => store.put(key, value))
      store.flush()
      await Promise.all(puts)
      copied += chunk.length
      chunk = []
    }
    for await (const pair of level.query({})) {
      chunk.push(pair)
      if (chunk.length >= MIGRATE_CHUNK) await write()
    }
    await write()
  } finally {
    await level.close()
  }
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(DATASTORE_FILE)) rmSync(join(dir, name), { recursive: true, force: true })
  }
  return copied
}
