import { DatabaseSync } from 'node:sqlite'

/** How an embedded database is opened. */
export interface OpenDatabaseOptions {
  /**
   * `full` syncs every transaction to disk (survives power loss); `normal` syncs at WAL
   * checkpoints (survives a process crash, the agent's case).
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full'
  /**
   * How long a statement waits for another connection's lock, in ms.
   * @default 5000
   */
  busyTimeoutMs?: number
}

/**
 * Opens an SQLite database with the pragmas every CHORUS store uses: WAL journal for a file
 * (concurrent readers, crash-safe appends), the chosen `synchronous` level and a busy timeout.
 * `path` undefined or `':memory:'` opens an in-memory database. Throws what node:sqlite throws
 * (callers map disk errors to their own typed errors).
 */
export function openDatabase(path: string | undefined, options: OpenDatabaseOptions = {}): DatabaseSync {
  const location = path ?? ':memory:'
  const db = new DatabaseSync(location, { timeout: options.busyTimeoutMs ?? 5_000 })
  try {
    if (location !== ':memory:') db.exec('PRAGMA journal_mode = WAL')
    db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}
