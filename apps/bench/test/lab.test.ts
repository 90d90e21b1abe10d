import { describe, expect, it } from 'vitest'
import { labOptionsFromEnv, labWanted } from '../src/lab/options.js'
import { labFigures, labSection } from '../src/lab/report.js'
import type { LabConditionResult, LabLatency, LabResult } from '../src/lab/types.js'
import { mergePartialRun, partOfFigure } from '../src/merge.js'
import { generateBenchmarksMd } from '../src/report.js'
import type { PackageResults } from '../src/results.js'
import { summarize } from '../src/stats.js'

const latency = (ms: number[], errors: Record<string, number> = {}): LabLatency => ({
  summary: summarize(ms),
  failed: Object.values(errors).reduce((s, n) => s + n, 0),
  errors
})

const condition = (
  c: LabConditionResult['condition'],
  extra: Partial<LabConditionResult> = {}
): LabConditionResult => ({
  condition: c,
  setup: `setup of ${c}`,
  chorusStore: latency([100, 200, 300]),
  chorusRetrieve: latency([50, 60, 70]),
  rawPut: latency([40, 50, 60]),
  rawGet: latency([20, 30, 40]),
  readsFromOwnReplica: 0,
  durationMs: 30_000,
  ...extra
})

const result: LabResult = {
  available: true,
  date: '2026-12-06T20:00:00.000Z',
  layout: 'a lab',
  method: 'one at a time.',
  samples: 3,
  recordBytes: 1024,
  loss: 0.02,
  conditions: [
    condition('direct'),
    condition('relayed', {
      relay: { relayedConnections: 4, directUpgrades: 0 },
      rawPut: latency([6000, 6100], { 'put failed': 1 })
    }),
    condition('loss', {
      chorusRetrieve: latency([80, 90], { 'retrieve HTTP 404 NOT_FOUND': 1 }),
      readsFromOwnReplica: 1
    })
  ],
  loadAverage: { start: 3.2, end: 4 },
  notes: ['a note'],
  durationMs: 200_000
}

/** BENCHMARKS.md of a run whose only package is apps/bench with these results. */
function benchmarksMdOf(results: PackageResults): string {
  return generateBenchmarksMd(
    {
      date: '2026-12-06T20:30:00Z',
      quick: false,
      machine: { cpus: 2, cpuModel: 'x', node: 'v24' },
      durationMs: 1,
      packages: [{ package: '@chorus/bench', dir: 'apps/bench', status: 'measured', results }]
    },
    { runFile: 'bench-results/x.json', chartsDir: 'docs/bench', charts: [] }
  )
}

describe('lab bench settings', () => {
  it('reads samples, loss and conditions from the environment and leaves bad values out', () => {
    expect(labOptionsFromEnv({})).toEqual({})
    expect(
      labOptionsFromEnv({
        BENCH_LAB_SAMPLES: '12',
        BENCH_LAB_LOSS: '2%',
        BENCH_LAB_CONDITIONS: 'loss, bogus,direct'
      })
    ).toEqual({ samples: 12, loss: 0.02, conditions: ['direct', 'loss'] })
    expect(labOptionsFromEnv({ BENCH_LAB_LOSS: '0.05' }).loss).toBe(0.05)
    expect(
      labOptionsFromEnv({ BENCH_LAB_SAMPLES: '0', BENCH_LAB_LOSS: '80%', BENCH_LAB_CONDITIONS: 'x' })
    ).toEqual({})
    expect(labOptionsFromEnv({ BENCH_LAB_SAMPLES: '2.5', BENCH_LAB_LOSS: 'lots' })).toEqual({})
  })

  it('runs with --only lab and in a full run; a quick run only with BENCH_LAB=1', () => {
    expect(labWanted('lab', true, {})).toBe(true)
    expect(labWanted(undefined, false, {})).toBe(true)
    expect(labWanted(undefined, true, {})).toBe(false)
    expect(labWanted(undefined, true, { BENCH_LAB: '1' })).toBe(true)
    expect(labWanted('records', false, { BENCH_LAB: '1' })).toBe(false)
  })
})

describe('lab bench report', () => {
  it('puts each CHORUS percentile beside the raw kad-dht one of the same condition', () => {
    const figures = labFigures(result)
    expect(figures).toHaveLength(3 * 2 * 2)
    const store = figures.find((f) => f.name === 'lab direct: store p50')
    expect(store).toMatchObject({ value: 200, unit: 'ms', baseline: { value: 50 }, ratio: 4 })
    expect(store?.baseline?.name).toContain('raw kad-dht put p50')
    const get = figures.find((f) => f.name === 'lab with loss: retrieve p50')
    expect(get?.baseline?.name).toContain('raw kad-dht get')
    expect(get?.note).toContain('1 failed')
    expect(labFigures({ available: false, reason: 'no root' })).toEqual([])
    expect(labFigures(undefined)).toEqual([])
  })

  it('renders a section per condition with ratios, failures, relay counters and the layout', () => {
    const md = labSection(result, { date: '2026-12-06T20:30:00.000Z', durationMs: 3_600_000 })
    expect(md).toContain('## Lab benchmark (apps/bench)')
    expect(md).toContain('Layout: a lab.')
    expect(md).toContain('1-minute load average 3.2 when the lab bench started and 4.0 when it ended')
    expect(md).toContain('- a note')
    expect(md).toContain('### Direct')
    expect(md).toContain('### Relayed')
    expect(md).toContain('### With loss')
    expect(md).toContain('| CHORUS store | 3 | 200 ms | 298 ms | 4.00x | 4.98x | 0 |')
    expect(md).toContain('1 x put failed')
    expect(md).toContain('1 x retrieve HTTP 404 NOT_FOUND')
    expect(md).toContain('4 new relayed connection(s) and 0 upgrade(s) to direct')
    expect(md).toContain('1 of 3 retrieves were by an agent that held a replica')
    expect(md).not.toContain('an `--only lab` run')
    expect(labSection(result, { date: '2026-12-06T08:00:00Z', durationMs: 900_000 })).toContain(
      'Measured 2026-12-06T20:00:00.000Z'
    )
    expect(labSection({ available: false, reason: 'the network lab needs root' })).toContain(
      'Not available in this run: the network lab needs root.'
    )
    expect(labSection(undefined)).toContain('Not run in this run')
  })

  it('is a section of BENCHMARKS.md', () => {
    const md = benchmarksMdOf({
      package: '@chorus/bench',
      date: 'd',
      results: labFigures(result),
      details: { lab: result }
    })
    expect(md).toContain('## Lab benchmark (apps/bench)')
    expect(md).toContain('### Relayed')
  })
})

describe('an --only run of apps/bench', () => {
  const previous: PackageResults = {
    package: '@chorus/bench',
    date: '2026-12-01T00:00:00Z',
    results: [
      { name: 'system 5 nodes: store p50', value: 10, unit: 'ms' },
      { name: 'simulation N=100: hops per lookup, 0 % dead', value: 3, unit: 'hops' },
      { name: 'lab direct: store p50', value: 999, unit: 'ms' }
    ],
    details: {
      simulation: { skipped: true, reason: 'x' },
      lab: { available: false, reason: 'old' }
    }
  }
  const current: PackageResults = {
    package: '@chorus/bench',
    date: '2026-12-06T20:00:00Z',
    results: labFigures(result),
    details: { lab: result }
  }

  it('replaces its own part and keeps the other parts with the date they were measured', () => {
    const merged = mergePartialRun(previous, current, 'lab')
    expect(merged.date).toBe(current.date)
    expect(merged.details?.lab).toBe(result)
    expect(merged.details?.simulation).toEqual({ skipped: true, reason: 'x' })
    expect(merged.measuredAt).toEqual({ simulation: previous.date, lab: current.date })
    const names = merged.results.map((f) => f.name)
    expect(names).toContain('system 5 nodes: store p50')
    expect(names).toContain('simulation N=100: hops per lookup, 0 % dead')
    expect(merged.results.find((f) => f.name === 'lab direct: store p50')?.value).toBe(200)
    expect(names.filter((n) => n === 'lab direct: store p50')).toHaveLength(1)
    // a second partial run keeps the dates of the first
    const again = mergePartialRun(merged, { ...current, date: '2026-12-07T00:00:00Z' }, 'lab')
    expect(again.measuredAt).toEqual({ simulation: previous.date, lab: '2026-12-07T00:00:00Z' })
  })

  it('keeps nothing of another package or of no file', () => {
    expect(mergePartialRun(undefined, current, 'lab').results).toEqual(current.results)
    expect(mergePartialRun({ ...previous, package: '@chorus/dht' }, current, 'lab').details).toEqual(
      current.details
    )
    expect(partOfFigure('records (http) 1,000: stores/s until idle')).toBe('records')
    expect(partOfFigure('something else')).toBeUndefined()
  })

  it('says in BENCHMARKS.md when the parts were measured at different times', () => {
    const md = benchmarksMdOf(mergePartialRun(previous, current, 'lab'))
    expect(md).toContain('measured at different times')
    expect(md).toContain('simulation 2026-12-01T00:00:00Z, lab 2026-12-06T20:00:00Z')
  })
})
