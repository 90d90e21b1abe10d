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

/** One transaction per event-loop turn over a database: a burst of writes costs one commit. */
export interface TurnTransaction {
  /**
   * Runs `write` in this turn's transaction (opened by the turn's first write, committed when the
   * turn ends, `setImmediate`) and returns the promise of that commit: it rejects with the
   * commit's error (a full disk). Ignoring it is safe (it never goes unhandled); a failed commit
   * is reported to `onCommitError` as well.
   * @throws what `write` throws, at once (the turn's other writes go on)
   */
  write(write: () => void): Promise<void>
  /**
   * Opens this turn's transaction when none is open, for statements run outside `write()` whose
   * writers do not wait for the commit: its failure reaches `onCommitError` only.
   */
  enter(): void
  /** Runs `fn` all or nothing, inside this turn's transaction (a savepoint). */
  atomically<T>(fn: () => T): T
  /** Commits this turn's writes now (a reader on another connection, a close). */
  commit(): void
}

export interface TurnTransactionOptions {
  /** Hears of a commit that failed (for a log line); the turn's writers are rejected anyway. */
  onCommitError?: (err: unknown) => void
}

interface Turn {
  done: Promise<void>
  resolve(): void
  reject(err: unknown): void
  /** A write of the turn that failed (SQLite may have rolled the transaction back). */
  failure?: unknown
}

function newTurn(): Turn {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const done = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  // a turn whose writers did not wait for it still settles without an unhandled rejection
  done.catch(() => undefined)
  return { done, resolve, reject }
}

/**
 * Group commit for an embedded database written by many small operations (a store is several
 * writes on each node, and a commit each cost most of their time). A crash loses at most the
 * current turn, which no writer has been told is committed: writers that must be durable await
 * `write()`'s promise. Use one per connection, and no other `BEGIN` on it.
 */
export function turnTransaction(db: DatabaseSync, options: TurnTransactionOptions = {}): TurnTransaction {
  let turn: Turn | undefined
  const commit = (): void => {
    const t = turn
    if (t === undefined) return
    turn = undefined
    if (!db.isOpen) {
      t.reject(new Error('the database closed before the commit'))
      return
    }
    try {
      // a failed write may have made SQLite roll the whole transaction back
      if (!db.isTransaction) throw t.failure ?? new Error('the transaction was rolled back')
      db.exec('COMMIT')
      t.resolve()
    } catch (err) {
      try {
        if (db.isTransaction) db.exec('ROLLBACK')
      } catch {
        // nothing more to undo
      }
      t.reject(err)
      options.onCommitError?.(err)
    }
  }
  const begin = (): Turn => {
    if (turn !== undefined) return turn
    db.exec('BEGIN')
    turn = newTurn()
    setImmediate(commit)
    return turn
  }
  return {
    write(write) {
      const t = begin()
      try {
        write()
      } catch (err) {
        t.failure ??= err
        if (!db.isTransaction && turn === t) {
          // SQLite rolled the turn back (a full disk): its writers hear it, the next write opens a new one
          turn = undefined
          t.reject(err)
        }
        throw err
      }
      return t.done
    },
    enter() {
      begin()
    },
    atomically(fn) {
      begin()
      db.exec('SAVEPOINT turn_atomically')
      try {
        const out = fn()
        db.exec('RELEASE turn_atomically')
        return out
      } catch (err) {
        if (db.isTransaction) {
          db.exec('ROLLBACK TO turn_atomically')
          db.exec('RELEASE turn_atomically')
        }
        throw err
      }
    },
    commit
  }
}
