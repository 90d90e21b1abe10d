import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/index.js'

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
