/**
 * The replication state in SQLite: opening a large store reads no row, the scheduler reads at most
 * its batch per tick, due times survive a reopen and stay spread, the counters the database keeps
 * equal a recount, a database of the older schema is upgraded and backfilled, and the keyspace
 * range query the sweep uses.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, silentLogger } from '@chorus/common'
import { keyPosition } from '@chorus/dht'
import { afterEach, describe, expect, it } from 'vitest'
import { type ReplicationConfig, replicationDefaults } from '../src/config.js'
import { ContentEntries, type Entry, newEntry } from '../src/entries.js'
import { buildMetrics, createCounters } from '../src/metrics.js'
import { valueDigest } from '../src/proof.js'
import { Scheduler } from '../src/scheduler.js'
import { ReplicationStore } from '../src/store.js'
import { spreadOver } from '../src/timing.js'

const config: ReplicationConfig = { ...replicationDefaults, schedulerBatch: 64 }
const dirs: string[] = []
const open: Array<{ close(): void }> = []
afterEach(() => {
  for (const o of open.splice(0)) o.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-state-'))
  dirs.push(dir)
  return dir
}

function openEntries(dir: string | undefined): ContentEntries {
  const entries = new ContentEntries({ dataDir: dir, config })
  entries.open()
  open.push(entries)
  return entries
}

const keyOf = (i: number): string => `/CHORUS/state/${i.toString(16).padStart(6, '0')}`

/** Adds `n` pinned keys as `addContent` would, with spread due times, in one transaction. */
function fill(entries: ContentEntries, n: number, now: number, due = false): void {
  entries.store!.transaction(() => {
    for (let i = 0; i < n; i++) {
      const e = newEntry(
        { key: keyOf(i), size: 8, priority: 0, createdAt: now, pinned: true, origin: 'local' },
        {
          nextRepairAt: due ? now - 1 : now + spreadOver(config.repairInterval),
          nextProvideAt: due ? now - 1 : now + spreadOver(config.reprovideInterval),
          nextRepublishAt: due ? now - 1 : now + spreadOver(config.republishInterval)
        }
      )
      entries.set(e, new Uint8Array(8).fill(i & 0xff))
    }
  })
}

/** Jobs that never finish until the test ends (the queues stay full). */
function stuckJobs() {
  const never = new Promise<void>(() => {})
  const job = async () => never
  return { repair: job, provide: job, republish: job, cleanup: () => {}, tick: () => {} }
}

describe('opening a large store', () => {
  it('reads no row at open, and the first ticks read at most the batch of each kind', () => {
    const dir = tempDir()
    const now = Date.now()
    const writer = openEntries(dir)
    fill(writer, 20_000, now, true)
    writer.close()

    const entries = openEntries(dir)
    expect(entries.store!.rowsRead).toBe(0)
    expect(entries.size).toBe(20_000)
    expect(entries.store!.rowsRead).toBe(0)

    const scheduler = new Scheduler({ entries, jobs: stuckJobs(), log: silentLogger }, config)
    scheduler.start(new AbortController().signal)
    open.push({ close: () => scheduler.halt() })
    scheduler.runDue(now)
    // every key is due for every kind: each kind read at most its batch (urgent: none)
    const first = entries.store!.rowsRead
    expect(first).toBeGreaterThan(0)
    expect(first).toBeLessThanOrEqual(3 * config.schedulerBatch)
    // the queues are full: a second tick reads nothing more than the pending rows again
    scheduler.runDue(now)
    expect(entries.store!.rowsRead - first).toBeLessThanOrEqual(0)
  })

  it('keeps due times across a reopen, spread over the intervals', () => {
    const dir = tempDir()
    const now = Date.now()
    const writer = openEntries(dir)
    fill(writer, 2_000, now)
    const before = new Map<string, Entry>()
    for (const e of writer.values()) before.set(e.key, e)
    writer.close()

    const entries = openEntries(dir)
    for (const e of entries.values()) {
      const b = before.get(e.key)!
      expect([e.nextRepairAt, e.nextProvideAt, e.nextRepublishAt]).toEqual([
        b.nextRepairAt,
        b.nextProvideAt,
        b.nextRepublishAt
      ])
    }
    // a restart announces and checks nothing at once: within the first tenth of each interval
    // only about a tenth of the keys come due (not all of them "soon")
    const soon = (kind: 'repair' | 'provide' | 'republish', interval: number) =>
      entries.due(kind, now + interval / 10, 5_000).length
    expect(soon('repair', config.repairInterval)).toBeLessThan(400)
    expect(soon('provide', config.reprovideInterval)).toBeLessThan(400)
    expect(soon('republish', config.republishInterval)).toBeLessThan(400)
    expect(entries.due('provide', now + config.reprovideInterval + 1, 5_000)).toHaveLength(2_000)
  })
})

describe('counters the database keeps', () => {
  it('equal a recount after a random sequence of adds, updates, checks and removals', () => {
    const entries = openEntries(undefined)
    const model = new Map<
      string,
      { bytes: number | undefined; size: number; actual?: number; health?: string; by?: string }
    >()
    let seed = 7
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    const peers = ['p1', 'p2', 'p3']
    for (let step = 0; step < 3_000; step++) {
      const key = keyOf(rand(200))
      const op = rand(6)
      const m = model.get(key)
      if (op === 0 && m != null) {
        entries.delete(key)
        model.delete(key)
      } else if (op <= 2) {
        const bytes = rand(3) === 0 ? undefined : 1 + rand(500)
        const by = rand(2) === 0 ? peers[rand(3)] : undefined
        const size = bytes ?? rand(100)
        const e =
          entries.get(key) ??
          newEntry(
            { key, size, priority: 0, createdAt: 1, pinned: bytes != null, origin: 'replica' },
            { nextRepairAt: 1, nextProvideAt: 1, nextRepublishAt: 1 }
          )
        e.size = size
        e.pushedBy = by
        entries.set(e, bytes == null ? undefined : new Uint8Array(bytes))
        model.set(key, { ...m, bytes: bytes ?? m?.bytes, size, by })
      } else if (op <= 4 && m != null) {
        const e = entries.get(key)!
        e.lastActual = rand(5)
        e.lastHealth = entries.healthOf(e.lastActual)
        entries.persist(e)
        model.set(key, { ...m, actual: e.lastActual, health: e.lastHealth })
      } else if (m != null) {
        // a holder of this key (and no other) departed
        entries.store!.touchProvider(key, `gone:${key}`, 1)
        entries.markPeerDeparted(`gone:${key}`, 5, 1)
      }
    }
    const all = [...model.values()]
    const checked = all.filter((m) => m.actual != null)
    const metrics = buildMetrics(entries.stats(), 0, createCounters())
    expect(metrics).toMatchObject({
      totalKeys: model.size,
      pinnedKeys: all.filter((m) => m.bytes != null).length,
      pinnedBytes: all.reduce((s, m) => s + (m.bytes ?? 0), 0),
      healthyKeys: checked.filter((m) => m.health === 'healthy').length,
      degradedKeys: checked.filter((m) => m.health === 'degraded').length,
      criticalKeys: checked.filter((m) => m.health === 'critical').length
    })
    expect(metrics.averageReplication).toBeCloseTo(
      checked.reduce((s, m) => s + (m.actual ?? 0), 0) / Math.max(1, checked.length)
    )
    for (const peer of peers) {
      const mine = all.filter((m) => m.by === peer)
      expect(entries.usageOf(peer)).toEqual({
        records: mine.length,
        bytes: mine.reduce((s, m) => s + m.size, 0)
      })
    }
    expect(entries.size).toBe(model.size)
  })

  it('are computed once when a database of the first schema is upgraded, and rows are backfilled in batches', () => {
    const dir = tempDir()
    const old = openDatabase(join(dir, 'replication.sqlite'))
    old.exec(`CREATE TABLE content (key TEXT PRIMARY KEY, size INTEGER NOT NULL, priority INTEGER NOT NULL,
      created_at INTEGER NOT NULL, value BLOB, origin TEXT NOT NULL, last_reprovided INTEGER,
      last_republished INTEGER, last_checked INTEGER, last_actual INTEGER, last_health TEXT,
      repair_failures INTEGER NOT NULL DEFAULT 0, next_repair_at INTEGER NOT NULL DEFAULT 0);`)
    const insert = old.prepare(
      `INSERT INTO content (key, size, priority, created_at, value, origin, last_actual, last_health)
       VALUES (?, 3, 0, 1, ?, 'replica', 3, 'healthy')`
    )
    for (let i = 0; i < 1_200; i++) insert.run(keyOf(i), i % 4 === 0 ? null : new Uint8Array([1, 2, 3]))
    old.close()

    const now = Date.now()
    const entries = openEntries(dir)
    const store = entries.store!
    expect(store.rowsRead).toBe(0)
    expect(entries.stats()).toMatchObject({ keys: 1_200, pinned: 900, pinnedBytes: 2_700, healthy: 1_200 })
    // nothing due to announce before the backfill reached a row; the sweep sees no row either
    expect(entries.due('provide', now + 1, 10)).toEqual([])
    const everything = { limit: 10_000 }
    const top = new Uint8Array(32)
    expect(store.pinnedInRange(new Uint8Array(32), top, everything)).toEqual([])
    const steps: boolean[] = []
    for (let i = 0; i < 10 && steps.at(-1) !== false; i++) steps.push(entries.backfill(500))
    expect(steps).toEqual([true, true, false])
    expect(entries.backfill(500)).toBe(false)
    expect(store.pinnedInRange(new Uint8Array(32), top, everything)).toHaveLength(900)
    // the first announcements of the upgraded rows are spread over the interval
    expect(entries.due('provide', now + config.reprovideInterval / 10, 10_000).length).toBeLessThan(200)
    expect(entries.due('provide', now + config.reprovideInterval + 1, 10_000)).toHaveLength(900)
  })

  it("a database of schema 2 gets the sweep's covering index, its counters untouched", () => {
    const dir = tempDir()
    const first = openEntries(dir)
    for (let i = 0; i < 50; i++) first.store!.upsertContent(row(keyOf(i)), new Uint8Array([i, 1]))
    first.close()
    // back to schema 2: the position index of then, without the covering one
    const db = openDatabase(join(dir, 'replication.sqlite'))
    db.exec(`DROP INDEX content_pinned_position; CREATE INDEX content_position ON content (position);
      PRAGMA user_version = 2;`)
    db.close()
    const entries = openEntries(dir)
    expect(entries.stats()).toMatchObject({ keys: 50, pinned: 50, pinnedBytes: 100 })
    expect(entries.store!.countPinnedInRange(new Uint8Array(32), new Uint8Array(32), 100)).toBe(50)
    entries.close()
    const check = openDatabase(join(dir, 'replication.sqlite'))
    const indexes = check
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'content_%position'`)
      .all()
      .map((r) => r.name)
    expect(indexes).toEqual(['content_pinned_position'])
    expect(check.prepare('PRAGMA user_version').get()?.user_version).toBe(3)
    check.close()
  })
})

/** A content row of `key` with nothing scheduled or checked yet. */
const row = (key: string, pinned = true) => ({
  key,
  size: 2,
  priority: 0,
  createdAt: 1,
  pinned,
  origin: 'local' as const,
  pushedBy: undefined,
  lastReprovided: undefined,
  lastRepublished: undefined,
  lastChecked: undefined,
  lastActual: undefined,
  lastHealth: undefined,
  repairFailures: 0,
  nextRepairAt: 0
})

describe('one transaction per turn', () => {
  it('commits the writes of a turn when it ends (another connection sees them), and at close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-repl-turn-'))
    try {
      const store = new ReplicationStore(dir)
      open.push(store)
      const other = openDatabase(join(dir, 'replication.sqlite'))
      const count = () =>
        Number((other.prepare('SELECT count(*) AS n FROM content').get() as { n: number }).n)
      for (let i = 0; i < 20; i++) store.upsertContent(row(`/CHORUS/t/${i}`), new Uint8Array([i]))
      // this turn's transaction is still open: another connection does not see it yet
      expect(count()).toBe(0)
      expect(store.hasContent('/CHORUS/t/3')).toBe(true)
      await new Promise((r) => setImmediate(r))
      expect(count()).toBe(20)
      store.upsertContent(row('/CHORUS/t/last'), new Uint8Array([1]))
      store.close()
      expect(count()).toBe(21)
      other.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('undoes a failed transaction() alone, keeping the other writes of the turn', async () => {
    const store = new ReplicationStore(undefined)
    open.push(store)
    store.upsertContent(row('/CHORUS/kept'), new Uint8Array([1]))
    expect(() =>
      store.transaction(() => {
        store.upsertContent(row('/CHORUS/undone'), new Uint8Array([2]))
        throw new Error('midway')
      })
    ).toThrow('midway')
    await new Promise((r) => setImmediate(r))
    expect(store.hasContent('/CHORUS/kept')).toBe(true)
    expect(store.hasContent('/CHORUS/undone')).toBe(false)
  })
})

describe('confirmHolders', () => {
  it('moves the per-key checks due before the next sweep, of pinned keys in good standing only, in one statement', () => {
    const entries = openEntries(undefined)
    const now = 1_000_000
    const add = (i: number, nextRepairAt: number, extra: Partial<Entry> = {}, pinned = true) => {
      const e = {
        ...newEntry({ ...row(keyOf(i), pinned) }, { nextRepairAt, nextProvideAt: 0, nextRepublishAt: 0 }),
        ...extra
      }
      entries.set(e, pinned ? new Uint8Array([i]) : undefined)
      // set() gives a fresh entry its failures of zero: write what the test needs
      entries.persist({ ...entries.get(keyOf(i))!, ...extra })
    }
    add(0, now + 10) // due soon: moved
    add(1, now + 50_000) // due after the next sweep already: left
    add(2, now + 10, { fresh: true }) // fresh: its first check stays
    add(3, now + 10, { repairFailures: 2 }) // a failed repair: its retry stays
    add(4, now + 10, {}, false) // not pinned here
    add(5, now + 10) // not among the confirmed keys
    const keys = [0, 1, 2, 3, 4].map(keyOf)
    entries.confirmHolders([...keys, '/CHORUS/state/unknown'], {
      before: now + 20_000,
      until: now + 40_000,
      spreadMs: 5_000
    })
    const at = (i: number) => entries.get(keyOf(i))!.nextRepairAt
    expect(at(0)).toBeGreaterThan(now + 35_000)
    expect(at(0)).toBeLessThanOrEqual(now + 40_000)
    expect([1, 2, 3, 4, 5].map(at)).toEqual([now + 50_000, now + 10, now + 10, now + 10, now + 10])
  })
})

describe('pinnedInRange', () => {
  it('lists pinned keys with lo <= position < hi by position, paged after a position', () => {
    const store = new ReplicationStore(undefined)
    open.push(store)
    const pinned: string[] = []
    for (let i = 0; i < 300; i++) {
      const key = keyOf(i)
      const value = i % 5 === 0 ? undefined : new Uint8Array([i & 0xff, 1])
      store.upsertContent(row(key, value != null), value)
      if (value != null) pinned.push(key)
    }
    const byPosition = pinned
      .map((key) => ({ key, position: keyPosition(key) }))
      .sort((a, b) => Buffer.compare(a.position, b.position))
    // a range: keys whose position starts with 0x40..0x7f
    const lo = new Uint8Array(32)
    lo[0] = 0x40
    const hi = new Uint8Array(32)
    hi[0] = 0x80
    const expected = byPosition.filter((p) => p.position[0]! >= 0x40 && p.position[0]! < 0x80)
    expect(expected.length).toBeGreaterThan(20)

    const pages: string[][] = []
    let after: Uint8Array | undefined
    for (;;) {
      const page = store.pinnedInRange(lo, hi, { after, limit: 7 })
      if (page.length === 0) break
      pages.push(page.map((p) => p.key))
      for (const p of page) {
        expect(p.position).toEqual(new Uint8Array(keyPosition(p.key)))
        expect(p.digest).toEqual(valueDigest(store.valueOf(p.key)!))
      }
      after = page.at(-1)!.position
    }
    expect(pages.flat()).toEqual(expected.map((p) => p.key))
    expect(pages.every((p) => p.length <= 7)).toBe(true)
    // the whole keyspace (a zero hi: no upper bound): every pinned key, none tracked without a value
    const all = store.pinnedInRange(new Uint8Array(32), new Uint8Array(32), { limit: 1_000 })
    expect(all.map((p) => p.key)).toEqual(byPosition.map((p) => p.key))
    // from a position to the end of the keyspace
    const upper = store.pinnedInRange(hi, new Uint8Array(32), { limit: 1_000 })
    expect(upper.map((p) => p.key)).toEqual(
      byPosition.filter((p) => p.position[0]! >= 0x80).map((p) => p.key)
    )
    expect(store.valueOf(keyOf(0))).toBeUndefined()
    expect(store.valueOf(keyOf(1))).toEqual(new Uint8Array([1, 1]))
    // counts, bounded by their limit (how the sweep narrows a region without reading it)
    expect(store.countPinnedInRange(lo, hi, 1_000)).toBe(expected.length)
    expect(store.countPinnedInRange(lo, hi, 5)).toBe(5)
    expect(store.countPinnedInRange(new Uint8Array(32), new Uint8Array(32), 1_000)).toBe(pinned.length)
    expect(store.countPinnedInRange(hi, lo, 10)).toBe(0)
    // an empty range, and a limit of 0
    expect(store.pinnedInRange(hi, lo, { limit: 10 })).toEqual([])
    expect(store.pinnedInRange(lo, hi, { limit: 0 })).toEqual([])
  })
})
