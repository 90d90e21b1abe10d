import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { isIdle, repairTraffic, reprovideTraffic } from '../src/records/metrics.js'
import { runPool } from '../src/records/pool.js'
import { recordsFigures, recordsSection } from '../src/records/report.js'
import { optionsFromEnv, sizesFromEnv } from '../src/records/run.js'
import type { RecordsResult, RecordsRun, RecordsSizeResult } from '../src/records/types.js'
import { lostRecordBytes, wipeDataDir } from '../src/records/wipe.js'
import { generateBenchmarksMd } from '../src/report.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('records bench settings', () => {
  it('takes sizes and options from the environment, falling back on bad input', () => {
    expect(sizesFromEnv([1000], { BENCH_RECORDS_SIZES: '5000, 1_000,x,5000' })).toEqual([1000, 5000])
    expect(sizesFromEnv([1000], { BENCH_RECORDS_SIZES: 'nope' })).toEqual([1000])
    expect(sizesFromEnv([1000, 10_000], {})).toEqual([1000, 10_000])
    const o = optionsFromEnv([1000], {
      BENCH_RECORDS_VIA: 'library,bogus',
      BENCH_RECORDS_REPROVIDE_MS: '30000',
      BENCH_RECORDS_CONCURRENCY: '-3'
    })
    expect(o).toEqual({ sizes: [1000], via: ['library'], reprovideIntervalMs: 30000 })
  })
})

describe('records bench metric readers', () => {
  it('reads the sweep counters when the agent has them, else converts per-key operations', () => {
    const sweep = reprovideTraffic({
      replication: { sweepMessages: 12, sweepBytes: 3400, reprovideOperations: 9 }
    })
    expect(sweep).toEqual({ messages: 12, bytes: 3400, source: 'sweepMessages', operations: false })
    const old = reprovideTraffic({ replication: { reprovideOperations: 9, republishOperations: 2 } })
    expect(old).toMatchObject({ messages: 11, bytes: undefined, operations: true })
    expect(reprovideTraffic({})).toMatchObject({ messages: 0, operations: true })
    // the names the replication manager reports (its sweep counters), beside republishes that,
    // with the sweep, only renew the node's own record store and send nothing
    expect(
      reprovideTraffic({
        replication: { sweepMessagesSent: 40, sweepBytesSent: 9000, republishOperations: 2000 }
      })
    ).toEqual({ messages: 40, bytes: 9000, source: 'sweepMessagesSent', operations: false })
    // the reprovide passes' own counters, and their region lookups (not in those counters)
    expect(
      reprovideTraffic({
        replication: {
          sweepMessagesSent: 400,
          sweepReprovideMessagesSent: 40,
          sweepReprovideBytesSent: 9000,
          reprovideOperations: 6
        }
      })
    ).toMatchObject({ messages: 40, bytes: 9000, lookups: 6, operations: false })
    // the sweep's own lookup counter, when the agent has it, over reprovideOperations (which also
    // counts first provides)
    expect(
      reprovideTraffic({
        replication: {
          sweepReprovideMessagesSent: 40,
          sweepReprovideBytesSent: 9000,
          sweepLookups: 4,
          reprovideOperations: 60
        }
      })
    ).toMatchObject({ messages: 40, lookups: 4, source: expect.stringContaining('sweepLookups') })
  })

  it('counts repair bytes with the anti-entropy summaries when counted', () => {
    expect(repairTraffic({ replication: { repairBytes: 100, repairMessages: 2 } })).toEqual({
      bytes: 100,
      messages: 2,
      source: 'repairBytes'
    })
    expect(
      repairTraffic({
        replication: { repairBytes: 100, repairMessages: 2, antiEntropyBytes: 50, antiEntropyMessages: 3 }
      })
    ).toMatchObject({ bytes: 150, messages: 5 })
    // the sweep's record batches and summaries are the refill
    expect(
      repairTraffic({
        replication: { repairBytes: 100, repairMessages: 2, sweepBytesSent: 900, sweepMessagesSent: 4 }
      })
    ).toEqual({ bytes: 1000, messages: 6, source: 'repairBytes + sweepBytesSent' })
  })

  it('is idle only when no background queue it knows of is busy', () => {
    expect(isIdle({ storage: { backgroundTasks: 0 } })).toBe(true)
    expect(isIdle({ storage: { backgroundTasks: 2 } })).toBe(false)
    expect(isIdle({ storage: { backgroundTasks: 0 }, replication: { pendingPushes: 1 } })).toBe(false)
    expect(isIdle({})).toBe(true)
  })
})

describe('records bench pool', () => {
  it('keeps the given number in flight and reports which operations failed', async () => {
    let inFlight = 0
    let most = 0
    const r = await runPool(
      20,
      4,
      async (i) => {
        inFlight++
        most = Math.max(most, inFlight)
        await new Promise((res) => setTimeout(res, 2))
        inFlight--
        if (i % 7 === 0) throw new Error(`refused ucxl://a:b@c:d/*^/r${i} now`)
      },
      100
    )
    expect(most).toBe(4)
    expect(r.ok + r.failed).toBe(20)
    expect(r.failedIndices.sort()).toEqual([105, 112, 119])
    expect(r.errors).toEqual({ 'refused <address> now': 3 })
  })
})

describe('records bench wipe', () => {
  it('keeps the identity, removes the data, and reads what the node held', () => {
    const dir = mkdtempSync(join(tmpdir(), 'records-wipe-'))
    dirs.push(dir)
    for (const d of ['team', 'keys', 'libp2p', 'replication', 'storage', 'local']) mkdirSync(join(dir, d))
    writeFileSync(join(dir, 'api-token'), 't')
    writeFileSync(join(dir, 'libp2p', 'peer.key'), 'k')
    writeFileSync(join(dir, 'libp2p', 'datastore.sqlite'), 'd')
    writeFileSync(join(dir, 'team', 'certificate'), 'c')
    const db = new DatabaseSync(join(dir, 'replication', 'replication.sqlite'))
    db.exec('CREATE TABLE content (key TEXT PRIMARY KEY, size INTEGER, value BLOB)')
    db.prepare('INSERT INTO content VALUES (?, ?, ?)').run('a', 3, new Uint8Array(3))
    db.prepare('INSERT INTO content VALUES (?, ?, ?)').run('b', 5, new Uint8Array(5))
    db.prepare('INSERT INTO content VALUES (?, ?, ?)').run('c', 0, null)
    db.close()
    expect(lostRecordBytes(dir)).toMatchObject({ records: 2, bytes: 8, targetRecords: 2, targetBytes: 8 })
    // factor 1 of two nodes: each key is the one node's or the other's to hold
    const [x, y] = [
      '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
      '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
    ]
    const ofX = lostRecordBytes(dir, { self: x!, peers: [x!, y!], factor: 1 })
    const ofY = lostRecordBytes(dir, { self: y!, peers: [x!, y!], factor: 1 })
    expect(ofX.targetRecords + ofY.targetRecords).toBe(2)
    expect(ofX.targetBytes + ofY.targetBytes).toBe(8)
    expect(lostRecordBytes(dir, { self: x!, peers: [x!, y!], factor: 2 })).toMatchObject({ targetRecords: 2 })
    wipeDataDir(dir)
    expect(readdirSync(dir).sort()).toEqual(['api-token', 'keys', 'libp2p', 'team'])
    expect(readdirSync(join(dir, 'libp2p'))).toEqual(['peer.key'])
    expect(lostRecordBytes(dir).records).toBeNaN()
  })
})

const size = (
  records: number,
  perSecond: number,
  rss: number,
  readyMs: number,
  failures = 0
): RecordsSizeResult => ({
  records,
  written: records,
  storesPerSecond: perSecond,
  storesPerSecondAtQuorum: perSecond * 1.2,
  failures,
  errors: (failures > 0 ? { 'only 1 of the 2 required peers acknowledged': failures } : {}) as Record<
    string,
    number
  >,
  rss: [
    { node: 'bench-1', bytes: rss },
    { node: 'bench-2', bytes: rss / 2 }
  ],
  restart: { node: 'bench-1', readyMs }
})

function sample(run: Partial<RecordsRun>): Extract<RecordsResult, { available: true }> {
  return {
    available: true,
    layout: '5 agent processes',
    recordBytes: 1024,
    concurrency: 16,
    sizes: [1000, 100_000],
    raw: { puts: 1000, concurrency: 16, perSecond: 40, failed: 0, provideSamples: 20, messagesPerProvide: 8 },
    runs: [
      {
        via: 'http',
        sizes: [size(1000, 300, 100e6, 900), size(100_000, 260, 140e6, 1500)],
        reprovide: {
          intervalMs: 120_000,
          windowMs: 120_000,
          heldKeys: 600_000,
          messages: 4000,
          bytes: 1e6,
          source: 'sweepMessages',
          operations: false,
          perKeyProvideMessages: 4_800_000
        },
        repair: {
          node: 'bench-3',
          heldBefore: 120_000,
          lostValues: 120_000,
          lostBytes: 200e6,
          lostSource: 'its replication database',
          targetValues: 120_000,
          targetBytes: 200e6,
          heldAfter: 120_000,
          refilled: true,
          ms: 60_000,
          sentBytes: 220e6,
          sentMessages: 500,
          source: 'repairBytes',
          socketBytesReceived: 230e6
        },
        readable: { checked: 500_000, ok: 500_000, failed: 0, errors: {}, nodes: 5, ms: 1000 },
        ...run
      }
    ],
    notes: [],
    durationMs: 1000
  }
}

describe('records bench report', () => {
  it('marks every target met when the figures meet them', () => {
    const md = recordsSection(sample({}))
    expect(md).toContain('## Records benchmark')
    expect(md).not.toContain('not met')
    expect(md.match(/\| met \|/g)?.length).toBe(6)
  })

  it('marks the targets a run misses, and says at which size it measured', () => {
    const md = recordsSection(
      sample({
        sizes: [size(1000, 20, 100e6, 900, 3), size(5000, 16, 300e6, 9800)],
        repair: { ...sample({}).runs[0]!.repair!, refilled: false, heldAfter: 10 }
      })
    )
    expect(md).toContain('measured at 5,000; the target is at 100,000')
    expect(md.match(/\| not met \|/g)?.length).toBe(5)
    expect(md).toContain('3 x only 1 of the 2 required peers acknowledged')
  })

  it('judges a refill by what the wiped node received, not by what the others sent to any peer', () => {
    const base = sample({}).runs[0]!.repair!
    const target = (md: string) => md.split('\n').find((l) => l.startsWith('| refill of a wiped node'))
    // the others also placed copies on each other while it was away: 1.65x sent, 1.05x received
    const received = recordsSection(
      sample({ repair: { ...base, sentBytes: 330e6, socketBytesReceived: 210e6 } })
    )
    expect(target(received)).toContain('| 1.05x | met |')
    expect(target(received)).toContain('every byte the node received on its TCP sockets')
    // its sockets unread: the senders' counters are all there is, and they decide
    const counted = recordsSection(
      sample({ repair: { ...base, sentBytes: 330e6, socketBytesReceived: undefined } })
    )
    expect(target(counted)).toContain('| 1.65x | not met |')
    expect(target(counted)).toContain('the repair bytes the other nodes sent')
  })

  it('gives each figure its same-run baseline and appears in BENCHMARKS.md', () => {
    const result = sample({})
    const figures = recordsFigures(result)
    const stores = figures.find((f) => f.name === 'records (http) 100,000: stores/s until idle')
    expect(stores?.baseline?.value).toBe(40)
    const reprovide = figures.find((f) => f.name.includes('reprovide messages'))
    expect(reprovide?.baseline?.value).toBe(4_800_000)
    const md = generateBenchmarksMd(
      {
        date: '2026-12-06T00:00:00Z',
        quick: false,
        machine: { cpus: 2, cpuModel: 'x', node: 'v24' },
        durationMs: 1,
        packages: [
          {
            package: '@chorus/bench',
            dir: 'apps/bench',
            status: 'measured',
            results: { package: '@chorus/bench', date: 'd', results: figures, details: { records: result } }
          }
        ]
      },
      { runFile: 'bench-results/x.json', chartsDir: 'docs/bench', charts: [] }
    )
    expect(md).toContain('## Records benchmark (apps/bench)')
    expect(md).toContain('Written through the HTTP API')
  })
})
