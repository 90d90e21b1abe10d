/** The result files: one per package (HELPERS.md format) and one per `pnpm bench` run. */
import { cpus, totalmem } from 'node:os'
import type { LabResult } from './lab/types.js'
import type { RecordsResult } from './records/types.js'
import type { SimulationResult } from './sim/run.js'
import type { SystemResult } from './system/types.js'

export interface Machine {
  cpus: number
  cpuModel: string
  node: string
  /** Total RAM in bytes (the per-package files may leave it out). */
  totalMemBytes?: number
  platform?: string
}

export interface Figure {
  name: string
  value: number
  unit: string
  /** The same-run baseline this figure is compared with. */
  baseline?: { name: string; value: number; unit?: string }
  /** value / baseline.value unless the package says otherwise. */
  ratio?: number
  note?: string
}

/** `packages/<x>/bench-results/latest.json`. */
export interface PackageResults {
  package: string
  date: string
  machine?: Machine
  quick?: boolean
  /** Which nodes of the bench are OS processes and which share one, in a sentence. */
  layout?: string
  results: Figure[]
  /**
   * @chorus/bench only: when each part (system, simulation, records, lab) was measured, set when an
   * `--only` run kept the other parts from the file before it (merge.ts).
   */
  measuredAt?: Partial<Record<'system' | 'simulation' | 'records' | 'lab', string>>
  /** @chorus/bench only: the full system benchmark, simulation and records benchmark, for tables and charts. */
  details?: {
    system?: SystemResult
    simulation?: SimulationResult | { skipped: true; reason: string }
    records?: RecordsResult
    lab?: LabResult
  }
}

export type PackageStatus =
  | 'measured'
  | 'failed'
  | 'timeout'
  | 'no-results'
  | 'stale'
  | 'no-bench'
  | 'skipped'

export interface PackageRun {
  package: string
  /** Workspace folder, e.g. packages/dht. */
  dir: string
  status: PackageStatus
  durationMs?: number
  /** Why it failed, briefly (last lines of its output). */
  error?: string
  results?: PackageResults
  /**
   * When this run got no figures (failed, timed out): the package's results file from an earlier
   * run, shown in the report marked as not this run's.
   */
  earlier?: PackageResults
  /** Quick runs: set when the bench took longer than its quick budget. */
  overBudget?: string
}

/** `bench-results/<date>.json` and `bench-results/latest.json`. */
export interface RunResults {
  date: string
  quick: boolean
  machine: Machine
  durationMs: number
  /** os.loadavg() (1, 5, 15 min) when the run started and ended: other work on the machine. */
  loadAverage?: { start: number[]; end: number[] }
  packages: PackageRun[]
}

export function machineInfo(): Machine {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    totalMemBytes: totalmem(),
    platform: `${process.platform}-${process.arch}`
  }
}

/** The ratio of a figure to its baseline: the package's own, else value / baseline. */
export function ratioOf(figure: Figure): number | undefined {
  if (figure.ratio != null && Number.isFinite(figure.ratio)) return figure.ratio
  const base = figure.baseline?.value
  if (base == null || !Number.isFinite(base) || base === 0 || !Number.isFinite(figure.value)) return undefined
  return figure.value / base
}
