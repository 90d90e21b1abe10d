// Figures of one spec file, flushed to .reports/reliability/parts/<name>.json; the global setup's
// teardown merges the parts into .reports/reliability.json (scripts/reliability-report.mjs renders it).
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const PARTS_DIR = join(ROOT, '.reports', 'reliability')

export interface Part {
  name: string
  recordsWritten: number
  recordsRead: number
  faults: Record<string, number>
  badInputs: Record<string, number>
  recordsLost: number
  recordsCorrupted: number
  /** Security properties that failed (known bugs), by kind. */
  securityFailures: Record<string, number>
  /** Recovery times by scenario, ms. */
  recoveries: Record<string, number>
  /** Named checks that ran and passed (a failing test writes nothing for its check). */
  checks: string[]
  notes: string[]
  /** Measured costs of hostile input on a receiving node, before and after a bound (ms unless `unit`). */
  costs?: Cost[]
}

/** One measured cost: what the uncapped code spends and what the node spends now. */
export interface Cost {
  what: string
  /** The cost without the bound (measured on the raw primitive), or null when there is none. */
  before: number | null
  after: number
  unit: string
  /** How each figure was measured. */
  how: string
}

export interface Report {
  written(n?: number): void
  read(n?: number): void
  fault(kind: string, n?: number): void
  badInput(kind: string, n?: number): void
  lost(n: number): void
  corrupted(n: number): void
  securityFailure(kind: string, n?: number): void
  recovery(scenario: string, ms: number): void
  check(name: string): void
  note(text: string): void
  cost(c: Cost): void
  flush(): void
}

export function createReport(name: string): Report {
  const part: Part = {
    name,
    recordsWritten: 0,
    recordsRead: 0,
    faults: {},
    badInputs: {},
    recordsLost: 0,
    recordsCorrupted: 0,
    securityFailures: {},
    recoveries: {},
    checks: [],
    notes: [],
    costs: []
  }
  const add = (m: Record<string, number>, k: string, n: number) => {
    m[k] = (m[k] ?? 0) + n
  }
  return {
    written: (n = 1) => {
      part.recordsWritten += n
    },
    read: (n = 1) => {
      part.recordsRead += n
    },
    fault: (kind, n = 1) => add(part.faults, kind, n),
    badInput: (kind, n = 1) => add(part.badInputs, kind, n),
    lost: (n) => {
      part.recordsLost += n
    },
    corrupted: (n) => {
      part.recordsCorrupted += n
    },
    securityFailure: (kind, n = 1) => add(part.securityFailures, kind, n),
    recovery: (scenario, ms) => {
      part.recoveries[scenario] = Math.max(part.recoveries[scenario] ?? 0, Math.round(ms))
    },
    check: (c) => {
      part.checks.push(c)
    },
    note: (t) => {
      part.notes.push(t)
    },
    cost: (c) => {
      part.costs?.push(c)
    },
    flush: () => {
      mkdirSync(PARTS_DIR, { recursive: true })
      writeFileSync(join(PARTS_DIR, `${name}.json`), `${JSON.stringify(part, null, 2)}\n`)
    }
  }
}

/** Bounded number of fast-check runs: CHORUS_FUZZ_RUNS overrides, soak mode multiplies by 10. */
export function fuzzRuns(dflt: number): number {
  const env = Number(process.env.CHORUS_FUZZ_RUNS)
  const base = Number.isInteger(env) && env > 0 ? env : dflt
  return process.env.CHORUS_SOAK === '1' ? base * 10 : base
}

export const SOAK = process.env.CHORUS_SOAK === '1'
