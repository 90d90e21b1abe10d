import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase, turnTransaction } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'chorus-common-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const pragma = (db: ReturnType<typeof openDatabase>, name: string): unknown =>
  Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0]

describe('openDatabase', () => {
  it('opens a file in WAL mode with synchronous NORMAL by default', () => {
    const db = openDatabase(join(dir, 'a.db'))
    expect(pragma(db, 'journal_mode')).toBe('wal')
    expect(pragma(db, 'synchronous')).toBe(1)
    db.close()
  })

  it('honours synchronous full, and opens in memory without a path', () => {
    const file = openDatabase(join(dir, 'b.db'), { synchronous: 'full' })
    expect(pragma(file, 'synchronous')).toBe(2)
    file.close()
    const mem = openDatabase(undefined)
    expect(pragma(mem, 'journal_mode')).toBe('memory')
    mem.close()
  })

  it('throws for a path that cannot be opened', () => {
    expect(() => openDatabase(join(dir, 'missing', 'deeper', 'c.db'))).toThrow()
  })
})

describe('turnTransaction', () => {
  const table = (name: string) => {
    const path = join(dir, `${name}.db`)
    const db = openDatabase(path)
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)')
    const other = openDatabase(path)
    const seen = () => (other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n
    return { db, other, seen, put: db.prepare('INSERT INTO t (k, v) VALUES (?, ?)') }
  }

  it("commits a turn's writes together when the turn ends, and each write resolves after that commit", async () => {
    const { db, other, seen, put } = table('turn')
    const tx = turnTransaction(db)
    const writes = [1, 2, 3].map((i) => tx.write(() => put.run(`k${i}`, i)))
    let settled = false
    void Promise.all(writes).then(() => {
      settled = true
    })
    await Promise.resolve()
    // in the turn: one open transaction, invisible to another connection, nobody told it is done
    expect(db.isTransaction).toBe(true)
    expect(seen()).toBe(0)
    expect(settled).toBe(false)
    await Promise.all(writes)
    expect(db.isTransaction).toBe(false)
    expect(seen()).toBe(3)
    // the next turn opens a transaction of its own
    await tx.write(() => put.run('k4', 4))
    expect(seen()).toBe(4)
    other.close()
    db.close()
  })

  it('a write that throws fails alone, at once; atomically() undoes its own statements only', async () => {
    const { db, other, seen, put } = table('failures')
    const tx = turnTransaction(db)
    const ok = tx.write(() => put.run('a', 1))
    expect(() => tx.write(() => put.run('a', 2))).toThrow(/UNIQUE/)
    expect(() =>
      tx.atomically(() => {
        put.run('b', 1)
        put.run('a', 3)
      })
    ).toThrow()
    tx.atomically(() => put.run('c', 1))
    await ok
    expect(seen()).toBe(2)
    expect(
      other
        .prepare('SELECT k FROM t ORDER BY k')
        .all()
        .map((r) => r.k)
    ).toEqual(['a', 'c'])
    other.close()
    db.close()
  })

  it('a commit that fails rejects every writer of the turn, tells onCommitError, and the next turn goes on', async () => {
    const db = openDatabase(join(dir, 'commit-fails.db'))
    db.exec(`PRAGMA foreign_keys = ON;
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`)
    const errors: unknown[] = []
    const tx = turnTransaction(db, { onCommitError: (err) => errors.push(err) })
    // a deferred foreign key is checked at COMMIT: both statements succeed, the commit fails
    const a = tx.write(() => db.prepare('INSERT INTO parent (id) VALUES (1)').run())
    const b = tx.write(() => db.prepare('INSERT INTO child (id, parent) VALUES (1, 99)').run())
    await expect(a).rejects.toThrow(/FOREIGN KEY/)
    await expect(b).rejects.toThrow(/FOREIGN KEY/)
    expect(errors).toHaveLength(1)
    expect(db.isTransaction).toBe(false)
    expect(db.prepare('SELECT count(*) AS n FROM parent').get()).toEqual({ n: 0 })
    await tx.write(() => db.prepare('INSERT INTO parent (id) VALUES (2)').run())
    expect(db.prepare('SELECT count(*) AS n FROM parent').get()).toEqual({ n: 1 })
    db.close()
  })

  it('a write that makes SQLite roll the turn back (a full disk) fails the turn; the next write opens a new one', async () => {
    const db = openDatabase(join(dir, 'full.db'))
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB NOT NULL)')
    const pages = Number((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count)
    db.exec(`PRAGMA max_page_count = ${pages + 2}`)
    const put = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)')
    const tx = turnTransaction(db)
    const small = tx.write(() => put.run('small', new Uint8Array(10)))
    expect(() => tx.write(() => put.run('large', new Uint8Array(64 * 1024)))).toThrow(/full/)
    await expect(small).rejects.toThrow(/full/)
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 })
    await tx.write(() => put.run('after', new Uint8Array(10)))
    expect(db.prepare('SELECT k FROM t').all()).toEqual([{ k: 'after' }])
    db.close()
  })

  it('commit() commits at once; a writer left when the database closes is rejected', async () => {
    const { db, other, seen, put } = table('now')
    const tx = turnTransaction(db)
    const w = tx.write(() => put.run('x', 1))
    tx.commit()
    expect(seen()).toBe(1)
    await w
    const late = tx.write(() => put.run('y', 1))
    db.exec('ROLLBACK')
    db.close()
    await expect(late).rejects.toThrow(/closed/)
    other.close()
  })
})
