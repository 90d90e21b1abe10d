/** `.reports/faults.json`: the runs of one invocation and their totals (scripts/reliability-report.mjs renders it). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { FaultRunReport } from './run.js'

export interface FaultsReport {
  date: string
  mode: string
  /** The targets of the runs (`loopback`, `lab`), each once, in run order. */
  targets: string[]
  seeds: number[]
  runs: number
  nodes: number[]
  faultSeconds: number
  operations: Record<string, number>
  finalReads: number
  faults: Record<string, number>
  skipped: Record<string, number>
  /** Faults injected and skipped by kind, per target. */
  byTarget: Record<string, { runs: number; faults: Record<string, number>; skipped: Record<string, number> }>
  violations: Record<string, number>
  totalViolations: number
  /** The longest recovery of any run (end of faults to every read correct), ms; null when a run never recovered. */
  longestRecoveryMs: number | null
  longestRestartMs: number
  valid: boolean
  details: FaultRunReport[]
}

const add = (into: Record<string, number>, from: Record<string, number | undefined>) => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + (v ?? 0)
}

export function summarizeRuns(runs: FaultRunReport[]): FaultsReport {
  const operations: Record<string, number> = {}
  const faults: Record<string, number> = {}
  const skipped: Record<string, number> = {}
  const violations: Record<string, number> = {}
  const byTarget: FaultsReport['byTarget'] = {}
  for (const r of runs) {
    add(operations, r.operations)
    add(faults, r.faults)
    add(skipped, r.skipped)
    add(violations, r.violations)
    const t = byTarget[r.target] ?? { runs: 0, faults: {}, skipped: {} }
    byTarget[r.target] = t
    t.runs++
    add(t.faults, r.faults)
    add(t.skipped, r.skipped)
  }
  const recoveries = runs.map((r) => r.recoveryMs)
  return {
    date: new Date().toISOString(),
    mode: runs[0]?.mode ?? 'ci',
    targets: Object.keys(byTarget),
    seeds: runs.map((r) => r.seed),
    runs: runs.length,
    nodes: runs.map((r) => r.nodes),
    faultSeconds: runs.reduce((s, r) => s + r.durationMs / 1000, 0),
    operations,
    finalReads: runs.reduce((s, r) => s + r.finalReads, 0),
    faults,
    skipped,
    byTarget,
    violations,
    totalViolations: Object.values(violations).reduce((a, b) => a + b, 0),
    longestRecoveryMs: recoveries.some((r) => r === null) ? null : Math.max(0, ...(recoveries as number[])),
    longestRestartMs: Math.max(0, ...runs.map((r) => r.longestRestartMs)),
    valid: runs.every((r) => r.valid),
    details: runs
  }
}

/** The workspace root (the folder with pnpm-workspace.yaml) above `from`. */
export function workspaceRoot(from = process.cwd()): string {
  let dir = resolve(from)
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const up = dirname(dir)
    if (up === dir) return resolve(from)
    dir = up
  }
  return dir
}

/** Writes the summary of `runs` to `path` (default `<workspace>/.reports/faults.json`); returns the path. */
export function writeFaultsReport(
  runs: FaultRunReport[],
  path = join(workspaceRoot(), '.reports', 'faults.json')
): string {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(summarizeRuns(runs), null, 2)}\n`)
  return path
}
