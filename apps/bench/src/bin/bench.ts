#!/usr/bin/env node
/**
 * apps/bench's own benchmark: the system benchmark, the scale simulation and the records benchmark.
 * Writes bench-results/latest.json (the per-package format, with the full results under `details`).
 *   node --expose-gc dist/bin/bench.js [--quick] [--only system|simulation|records|lab]
 * The records benchmark's sizes: `BENCH_RECORDS_SIZES=1000,5000` (default 1,000 / 10,000 /
 * 100,000); a quick run skips it unless BENCH_RECORDS_SIZES is set (it needs minutes, not seconds).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { labOptionsFromEnv, labWanted } from '../lab/options.js'
import { labFigures } from '../lab/report.js'
import { runLabBenchmark } from '../lab/run.js'
import type { LabResult } from '../lab/types.js'
import { isBenchPart, mergePartialRun } from '../merge.js'
import { recordsFigures } from '../records/report.js'
import { optionsFromEnv, runRecordsBenchmark } from '../records/run.js'
import type { RecordsResult } from '../records/types.js'
import { type Figure, machineInfo, type PackageResults } from '../results.js'
import { runSimulation, type SimulationResult } from '../sim/run.js'
import { runSystemBenchmark } from '../system/run.js'
import type { SystemResult } from '../system/types.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const onlyIndex = args.indexOf('--only')
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined
const started = performance.now()
const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`)
}

export function headlineFigures(
  system: SystemResult | undefined,
  sim: SimulationResult | undefined
): Figure[] {
  const figures: Figure[] = []
  if (system?.available) {
    for (const s of system.sizes) {
      const p = `system ${s.nodes} nodes:`
      const vs = (
        name: string,
        value: number,
        base: number | undefined,
        baseName: string,
        note?: string
      ): void => {
        figures.push({
          name: `${p} ${name}`,
          value,
          unit: 'ms',
          ...(base != null && Number.isFinite(base)
            ? { baseline: { name: baseName, value: base }, ratio: value / base }
            : {}),
          ...(note != null ? { note } : {})
        })
      }
      vs('store p50', s.store.p50, s.rawPut?.p50, 'raw kad-dht put p50')
      vs('store p99', s.store.p99, s.rawPut?.p99, 'raw kad-dht put p99')
      if (s.storeUntilIdle != null) {
        vs(
          'store until idle p50',
          s.storeUntilIdle.p50,
          s.rawPut?.p50,
          'raw kad-dht put p50',
          'the store timed until its background kad puts and provide finished'
        )
      }
      vs('cold retrieve p50', s.retrieveCold.p50, s.rawGet?.p50, 'raw kad-dht get p50')
      vs('cold retrieve p99', s.retrieveCold.p99, s.rawGet?.p99, 'raw kad-dht get p99')
      vs('cached retrieve p50', s.retrieveCached.p50, s.rawGet?.p50, 'raw kad-dht get p50')
      const top = s.throughput[s.throughput.length - 1]
      if (top != null) {
        figures.push({
          name: `${p} stores/s at concurrency ${top.concurrency}`,
          value: top.storePerSecond,
          unit: 'ops/s'
        })
      }
      // All nodes share one process, so RSS growth per node is unreliable (memory freed by an
      // earlier size is reused and it can read 0); the process RSS over the nodes is an upper bound.
      // Per-process RSS of a node is measured by the replication bench (one process per node).
      if (s.rssBytesTotal != null) {
        figures.push({
          name: `${p} process RSS / nodes (upper bound)`,
          value: s.rssBytesTotal / s.nodes,
          unit: 'bytes',
          note: `all ${s.nodes} nodes and their storage in one process; RSS growth per node: ${s.rssBytesPerNode} bytes, heap + external growth per node: ${s.heapBytesPerNode ?? 'n/a'} bytes`
        })
      }
    }
  }
  if (sim != null) {
    for (const s of sim.sizes) {
      const p = `simulation N=${s.nodes}:`
      for (const { dead, stats } of s.byDead) {
        const d = `${Math.round(dead * 100)} % dead`
        figures.push({
          name: `${p} hops per lookup, ${d}`,
          value: stats.hops.mean,
          unit: 'hops',
          note: `log2 N = ${Math.log2(s.nodes).toFixed(1)}`
        })
        figures.push({ name: `${p} messages per lookup, ${d}`, value: stats.messages.mean, unit: 'messages' })
        figures.push({ name: `${p} lookup success, ${d}`, value: stats.success * 100, unit: '%' })
      }
      figures.push({ name: `${p} heap per simulated node`, value: s.heapBytesPerNode, unit: 'bytes' })
    }
  }
  return figures
}

async function main(): Promise<void> {
  let system: SystemResult | undefined
  let simulation: SimulationResult | undefined
  let simulationError: string | undefined
  if (only == null || only === 'system') {
    log(`system benchmark${quick ? ' (quick)' : ''}`)
    try {
      system = await runSystemBenchmark(
        quick
          ? {
              // smoke size: every phase and both baselines run, with few samples (~10 s)
              sizes: [5],
              ops: 5,
              cachedOps: 200,
              concurrency: [1, 8],
              minThroughputOps: 4,
              phaseMs: 5_000,
              throughputMs: 4_000,
              log
            }
          : { sizes: [5, 10, 20], log }
      )
    } catch (err) {
      system = { available: false, reason: `failed: ${(err as Error).message}` }
    }
    if (!system.available) log(`system benchmark ${system.reason}`)
  }
  if (only == null || only === 'simulation') {
    log(`scale simulation${quick ? ' (quick)' : ''}`)
    try {
      simulation = await runSimulation(
        quick
          ? { sizes: [50, 100], lookups: 20, crossCheckLookups: 10, crossCheckMaxN: 50, log }
          : { sizes: [100, 500, 1000, 2000], lookups: 200, crossCheckLookups: 50, crossCheckMaxN: 500, log }
      )
    } catch (err) {
      simulationError = (err as Error).message
      log(`scale simulation failed: ${simulationError}`)
    }
  }
  let records: RecordsResult | undefined
  const recordsWanted =
    only === 'records' || (only == null && (!quick || process.env.BENCH_RECORDS_SIZES != null))
  if (recordsWanted) {
    const recordsOptions = optionsFromEnv(quick ? [200] : [1_000, 10_000, 100_000])
    log(`records benchmark: sizes ${recordsOptions.sizes?.join(' / ')}`)
    try {
      records = await runRecordsBenchmark({ ...recordsOptions, log })
    } catch (err) {
      records = { available: false, reason: `failed: ${(err as Error).message}` }
      log(`records benchmark ${records.reason}`)
    }
  }
  let lab: LabResult | undefined
  if (labWanted(only, quick)) {
    const labOptions = labOptionsFromEnv()
    log(`lab benchmark: ${labOptions.samples ?? 20} samples per operation and condition`)
    try {
      lab = await runLabBenchmark({ ...labOptions, log })
    } catch (err) {
      lab = { available: false, reason: `failed: ${(err as Error).message}` }
    }
    if (!lab.available) log(`lab benchmark: not run: ${lab.reason}`)
  }
  const out: PackageResults = {
    package: '@chorus/bench',
    date: new Date().toISOString(),
    machine: machineInfo(),
    ...(quick ? { quick: true } : {}),
    results: [...headlineFigures(system, simulation), ...recordsFigures(records), ...labFigures(lab)],
    details: {
      ...(records != null ? { records } : {}),
      ...(lab != null ? { lab } : {}),
      ...(system != null ? { system } : {}),
      ...(simulation != null
        ? { simulation }
        : simulationError != null
          ? { simulation: { skipped: true as const, reason: `failed: ${simulationError}` } }
          : {})
    }
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench-results')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'latest.json')
  // an `--only` run replaces its part and keeps the others (a quick run's file is put back by scripts/bench.mjs)
  let written = out
  if (!quick && isBenchPart(only) && existsSync(file)) {
    try {
      written = mergePartialRun(JSON.parse(readFileSync(file, 'utf8')) as PackageResults, out, only)
      log(`kept the other parts of the earlier ${file}`)
    } catch (err) {
      log(`could not read the earlier ${file} (${(err as Error).message}); writing this run's part only`)
    }
  }
  writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`)
  log(`wrote ${file}`)
}

await main()
