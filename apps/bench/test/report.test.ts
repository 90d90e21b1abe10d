import { describe, expect, it } from 'vitest'
import { buildCharts, formatBytes, formatNumber, formatRatio, generateBenchmarksMd } from '../src/report.js'
import { type RunResults, ratioOf } from '../src/results.js'
import type { SimulationResult } from '../src/sim/run.js'
import { type Summary, summarize } from '../src/stats.js'
import type { SystemResult } from '../src/system/types.js'

const sum = (p50: number, p99: number): Summary => ({
  count: 10,
  mean: p50,
  min: p50 / 2,
  p50,
  p90: p99,
  p99,
  max: p99
})
const lookupStats = (hops: number, success: number) => ({
  lookups: 100,
  success,
  recall: 0.95,
  hops: summarize([hops, hops]),
  messages: summarize([30, 40]),
  failedMessages: summarize([0, 2]),
  distinctPeers: summarize([30, 38]),
  simulatedMs: summarize([100, 120]),
  cpuMsPerLookup: 1.5
})

const simulation: SimulationResult = {
  kadDhtVersion: '16.4.5',
  k: 20,
  alpha: 3,
  disjointPaths: 3,
  prefixLength: 6,
  latencyModel: { rttMinMs: 10, rttMaxMs: 50, deadPeerTimeoutMs: 2000 },
  durationMs: 60_000,
  sizes: [100, 2000].map((nodes, i) => ({
    nodes,
    buildMs: 1000,
    buildCpuMs: 900,
    heapBytesPerNode: 40 * 1024,
    gcForced: true,
    tableSize: summarize([80, 90]),
    byDead: [
      { dead: 0, stats: lookupStats(1 + i, 1) },
      { dead: 0.1, stats: lookupStats(1.2 + i, 0.99) },
      { dead: 0.3, stats: lookupStats(1.5 + i, 0.875) }
    ],
    ...(nodes === 100 ? { crossCheck: lookupStats(1.1, 1) } : {})
  }))
}

const system: SystemResult = {
  available: true,
  layout: 'all nodes in one process',
  contentBytes: 1024,
  notes: ['a note'],
  sizes: [5, 20].map((nodes) => ({
    nodes,
    store: sum(50, 120),
    storeUntilIdle: sum(300, 900),
    retrieveCold: sum(20, 60),
    retrieveCached: sum(0.04, 0.2),
    rawPut: sum(200, 1700),
    rawGet: sum(230, 900),
    throughput: [
      { concurrency: 1, storePerSecond: 10, retrievePerSecond: 40 },
      { concurrency: 32, storePerSecond: 80, storeDrainedPerSecond: 20, retrievePerSecond: 300 }
    ],
    rssBytesPerNode: 12 * 1024 * 1024,
    cpuMsPerOp: { store: 9, retrieveCold: 4, retrieveCached: 0.03 },
    acksPerStore: 3,
    errors: []
  }))
}

function sampleRun(): RunResults {
  return {
    date: '2026-11-21T07:20:00.000Z',
    quick: false,
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU @ 2.50GHz',
      node: 'v24.21.0',
      totalMemBytes: 24 * 1024 ** 3,
      platform: 'linux-x64'
    },
    durationMs: 900_000,
    loadAverage: { start: [6.5, 6, 5], end: [12.25, 10, 8] },
    packages: [
      {
        package: '@chorus/crypto',
        dir: 'packages/crypto',
        status: 'measured',
        durationMs: 30_000,
        results: {
          package: '@chorus/crypto',
          date: '2026-11-21T07:10:00.000Z',
          results: [
            {
              name: 'encrypt 1 KiB | 3 roles',
              value: 0.5,
              unit: 'ms',
              baseline: { name: 'age-encryption encrypt', value: 2 }
            },
            {
              name: 'decrypt 1 KiB',
              value: 0.3,
              unit: 'ms',
              baseline: { name: 'node:crypto', value: 0.1 },
              ratio: 3.5
            },
            { name: 'key generation', value: 0.2, unit: 'ms' }
          ]
        }
      },
      {
        package: '@chorus/dht',
        dir: 'packages/dht',
        status: 'failed',
        durationMs: 1000,
        error: 'exit code 1: boom'
      },
      { package: '@chorus/hybrid', dir: 'packages/hybrid', status: 'no-bench' },
      { package: '@chorus/replication', dir: 'packages/replication', status: 'stale', durationMs: 500 },
      {
        package: '@chorus/storage',
        dir: 'packages/storage',
        status: 'timeout',
        durationMs: 900_000,
        error: 'stopped after 900 s',
        earlier: {
          package: '@chorus/storage',
          date: '2026-11-20T10:00:00.000Z',
          layout: 'all 20 + 20 nodes in one process',
          results: [
            {
              name: 'store p50',
              value: 40,
              unit: 'ms',
              baseline: { name: 'raw kad-dht put p50', value: 400 }
            }
          ]
        }
      },
      {
        package: '@chorus/ucxl',
        dir: 'packages/ucxl',
        status: 'failed',
        durationMs: 2000,
        error: 'exit code 1: late',
        results: {
          package: '@chorus/ucxl',
          date: '2026-11-21T07:11:00.000Z',
          results: [{ name: 'parse', value: 0.01, unit: 'ms', baseline: { name: 'URL', value: 0.02 } }]
        }
      },
      {
        package: '@chorus/bench',
        dir: 'apps/bench',
        status: 'measured',
        durationMs: 400_000,
        results: {
          package: '@chorus/bench',
          date: '2026-11-21T07:19:00.000Z',
          results: [
            {
              name: 'system 20 nodes: store p50',
              value: 50,
              unit: 'ms',
              baseline: { name: 'raw kad-dht put p50', value: 200 },
              ratio: 0.25
            }
          ],
          details: { system, simulation }
        }
      }
    ]
  }
}

describe('ratios and number formats', () => {
  it('uses the package’s ratio, else value / baseline, else none', () => {
    expect(ratioOf({ name: 'a', value: 1, unit: 'ms', baseline: { name: 'b', value: 4 } })).toBe(0.25)
    expect(ratioOf({ name: 'a', value: 1, unit: 'ms', baseline: { name: 'b', value: 4 }, ratio: 0.3 })).toBe(
      0.3
    )
    expect(ratioOf({ name: 'a', value: 1, unit: 'ms' })).toBeUndefined()
    expect(ratioOf({ name: 'a', value: 1, unit: 'ms', baseline: { name: 'b', value: 0 } })).toBeUndefined()
  })

  it('formats numbers, bytes and ratios', () => {
    expect(formatNumber(1234.5)).toBe('1,235')
    expect(formatNumber(0.03862)).toBe('0.0386')
    expect(formatNumber(12.345)).toBe('12.3')
    expect(formatNumber(Number.NaN)).toBe('n/a')
    expect(formatBytes(12 * 1024 * 1024)).toBe('12.0 MiB')
    expect(formatRatio(0.25)).toBe('0.250x')
    expect(formatRatio(undefined)).toBe('-')
  })
})

describe('generateBenchmarksMd', () => {
  const run = sampleRun()
  const charts = buildCharts(run)
  const md = generateBenchmarksMd(run, { runFile: 'bench-results/x.json', chartsDir: 'docs/bench', charts })

  it('states the machine, the date and the run file', () => {
    expect(md).toContain('2 x Test CPU @ 2.50GHz')
    expect(md).toContain('24.0 GiB RAM')
    expect(md).toContain('Node v24.21.0')
    expect(md).toContain('1-minute load average 6.50 at the start and 12.3 at the end, on 2 cores')
    expect(md).toContain('2026-11-21T07:20:00.000Z')
    expect(md).toContain('[bench-results/x.json](bench-results/x.json)')
    expect(md).not.toContain('quick smoke run')
  })

  it('puts each package figure beside its baseline with the ratio', () => {
    const line = (needle: string): string => md.split('\n').find((l) => l.includes(needle)) ?? ''
    // value / baseline, pipes in names escaped
    expect(line('encrypt 1 KiB')).toMatch(
      /^\| encrypt 1 KiB \\\| 3 roles \| 0\.500 ms \| age-encryption encrypt \| 2\.00 ms \| 0\.250x \|/
    )
    // the package's own ratio wins
    expect(line('decrypt 1 KiB')).toContain('| 3.50x |')
    expect(line('key generation')).toMatch(/\| key generation \| 0\.200 ms \| - \| - \| - \|/)
  })

  it('lists every package that was not measured, with the reason', () => {
    const section = md.slice(md.indexOf('## Not measured in this run'))
    expect(section).toContain(
      '@chorus/dht (packages/dht): not measured in this run: bench failed (exit code 1: boom)'
    )
    expect(section).toContain('@chorus/hybrid (packages/hybrid): not measured in this run: no bench script')
    expect(section).toContain(
      '@chorus/replication (packages/replication): not measured in this run: results file is older than this run'
    )
    expect(section).not.toContain('@chorus/crypto')
    expect(md).not.toContain('## @chorus/dht\n')
  })

  it('shows figures a failed bench wrote, and an earlier run’s figures of a timed-out one, marked', () => {
    const storage = md.slice(md.indexOf('## @chorus/storage (bench timed out)'))
    expect(storage).toContain(
      'Not measured in this run: bench timed out (stopped after 900 s). The figures below are from an earlier run (2026-11-20T10:00:00.000Z), not this one'
    )
    expect(storage).toContain('Layout: all 20 + 20 nodes in one process.')
    expect(md).toContain(
      'Which nodes are processes:\n\n- System benchmark (apps/bench): all nodes in one process.\n- @chorus/storage: all 20 + 20 nodes in one process.\n'
    )
    expect(storage).toMatch(/\| store p50 \| 40\.0 ms \| raw kad-dht put p50 \| 400 ms \| 0\.100x \|/)
    const ucxl = md.slice(md.indexOf('## @chorus/ucxl (bench failed)'))
    expect(ucxl).toContain(
      'The bench failed in this run (exit code 1: late); the figures below are what it wrote'
    )
    expect(ucxl).toContain('| parse |')
    const section = md.slice(md.indexOf('## Not measured in this run'))
    expect(section).toContain('@chorus/storage (packages/storage): not measured in this run: bench timed out')
    expect(section).toContain('figures of an earlier run (2026-11-20T10:00:00.000Z) are shown above, marked')
    expect(md).toMatch(
      /\| @chorus\/storage \| bench timed out \| - \(1 from an earlier run shown\) \| 900 s \|/
    )
  })

  it('says when the system benchmark itself did not finish', () => {
    const r = sampleRun()
    const bench = r.packages.find((p) => p.package === '@chorus/bench')!
    bench.status = 'timeout'
    bench.error = 'stopped after 1800 s'
    delete bench.results
    const text = generateBenchmarksMd(r, { runFile: 'r.json', chartsDir: 'd', charts: [] })
    expect(text).toContain(
      '**@chorus/bench (system benchmark and simulation): bench timed out in this run (stopped after 1800 s).**'
    )
  })

  it('renders the system benchmark with same-run baselines and ratios', () => {
    expect(md).toContain('### 20 nodes')
    const store = md.split('\n').find((l) => l.startsWith('| store (returns at write quorum) |'))
    expect(store).toContain('raw kad-dht put: 200 ms / 1,700 ms')
    expect(store).toContain('| 0.250x | 0.0706x |')
    const whole = md.split('\n').find((l) => l.startsWith('| store until idle (incl. background) |'))
    expect(whole).toContain('| 300 ms | 900 ms |')
    expect(whole).toContain('| 1.50x | 0.529x | 9.00 ms |')
    expect(md).toContain('RSS growth per node: 12.0 MiB')
    expect(md).toMatch(/\| 32 \| 80\.0 \| 20\.0 \| 300 \|/)
  })

  it('renders the simulation table, the cross-check and links the charts', () => {
    expect(md).toMatch(/\| 2,000 \| 30 % \| 87\.5 % \| 95\.0 % \| 2\.50 \|/)
    expect(md).toContain('kad-dht QueryManager')
    expect(charts.map((c) => c.file).sort()).toEqual([
      'simulation-hops.svg',
      'simulation-messages.svg',
      'system-latency.svg'
    ])
    for (const c of charts) expect(md).toContain(`(docs/bench/${c.file})`)
  })

  it('says when a part is missing instead of failing', () => {
    const bare: RunResults = {
      ...run,
      quick: true,
      packages: run.packages.filter((p) => p.package !== '@chorus/bench')
    }
    const text = generateBenchmarksMd(bare, {
      runFile: 'r.json',
      chartsDir: 'docs/bench',
      charts: buildCharts(bare)
    })
    expect(text).toContain('quick smoke run')
    expect(text).toContain(
      '## System benchmark (apps/bench)\n\nNot available in this run: no system results.'
    )
    expect(text).toContain('Not available in this run: no simulation results.')
    expect(buildCharts(bare)).toEqual([])
    const unavailable = sampleRun()
    const bench = unavailable.packages.find((p) => p.package === '@chorus/bench')!
    bench.results!.details = {
      system: { available: false, reason: 'not available: @chorus/storage (missing)' }
    }
    const t2 = generateBenchmarksMd(unavailable, { runFile: 'r.json', chartsDir: 'd', charts: [] })
    expect(t2).toContain('Not available in this run: not available: @chorus/storage (missing).')
  })
})
