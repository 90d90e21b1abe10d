/**
 * The sweep's cursor file: what a restart resumes from. Written by rename, at most once a second
 * after a region, always at the end of a pass and on stop; a damaged file reads as no cursor.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CursorFile, type SweepCursor } from '../src/sweep/cursor.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sweep-cursor-'))
  dirs.push(d)
  return d
}

const cursor = (next: string, regions: number): SweepCursor => ({
  next,
  passStart: 1_000,
  bits: 6,
  regions,
  messages: regions * 2,
  bytes: regions * 100,
  lookups: false,
  lastLookupPass: 500
})

describe('the sweep cursor file', () => {
  it('round-trips; a region within a second of the last write is not written, the end of a pass always is', () => {
    const dir = tempDir()
    const file = new CursorFile(join(dir, 'nested'))
    expect(file.load()).toBeUndefined()
    file.save(cursor('aa'.repeat(32), 1))
    expect(new CursorFile(join(dir, 'nested')).load()).toEqual(cursor('aa'.repeat(32), 1))
    // the next region a moment later: not written (a crash sweeps it again)
    file.save(cursor('bb'.repeat(32), 2))
    expect(new CursorFile(join(dir, 'nested')).load()?.regions).toBe(1)
    // the end of a pass (or a stop): written at once
    file.save({ ...cursor('cc'.repeat(32), 3), next: undefined }, true)
    expect(new CursorFile(join(dir, 'nested')).load()).toEqual({
      ...cursor('cc'.repeat(32), 3),
      next: undefined
    })
  })

  it('a damaged or hostile file reads as no cursor or as safe values', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'sweep-cursor.json'), '{not json')
    expect(new CursorFile(dir).load()).toBeUndefined()
    writeFileSync(
      join(dir, 'sweep-cursor.json'),
      JSON.stringify({ next: '../../etc', passStart: -5, bits: 1e9, regions: 'x', lookups: 0 })
    )
    expect(new CursorFile(dir).load()).toEqual({
      next: undefined,
      passStart: 0,
      bits: 32,
      regions: 0,
      messages: 0,
      bytes: 0,
      lookups: true,
      lastLookupPass: 0
    })
    // without a data directory: kept in memory only
    const none = new CursorFile(undefined)
    none.save(cursor('aa'.repeat(32), 1), true)
    expect(none.load()).toBeUndefined()
    expect(readFileSync(join(dir, 'sweep-cursor.json'), 'utf8')).toContain('etc')
  })
})
