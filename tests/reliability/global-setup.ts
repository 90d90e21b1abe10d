// Clears the per-file figures before the run and merges them into .reports/reliability.json after.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { PARTS_DIR, type Part, ROOT } from './report.js'

let started = 0

export function setup(): void {
  started = Date.now()
  rmSync(PARTS_DIR, { recursive: true, force: true })
  mkdirSync(PARTS_DIR, { recursive: true })
}

export function teardown(): void {
  if (!existsSync(PARTS_DIR)) return
  const parts: Part[] = readdirSync(PARTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(PARTS_DIR, f), 'utf8')) as Part)
  const sum = (m: Record<string, number>, add: Record<string, number>) => {
    for (const [k, v] of Object.entries(add)) m[k] = (m[k] ?? 0) + v
    return m
  }
  const recoveries: Record<string, number> = {}
  for (const p of parts) for (const [k, v] of Object.entries(p.recoveries)) recoveries[`${p.name}: ${k}`] = v
  const longest = Object.entries(recoveries).sort((a, b) => b[1] - a[1])[0]
  const out = {
    date: new Date().toISOString(),
    durationMs: Date.now() - started,
    mode: process.env.CHORUS_SOAK === '1' ? 'soak' : 'ci',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    recordsWritten: parts.reduce((n, p) => n + p.recordsWritten, 0),
    recordsRead: parts.reduce((n, p) => n + p.recordsRead, 0),
    faults: parts.reduce((m, p) => sum(m, p.faults), {} as Record<string, number>),
    badInputs: parts.reduce((m, p) => sum(m, p.badInputs), {} as Record<string, number>),
    recordsLost: parts.reduce((n, p) => n + p.recordsLost, 0),
    recordsCorrupted: parts.reduce((n, p) => n + p.recordsCorrupted, 0),
    securityFailures: parts.reduce((m, p) => sum(m, p.securityFailures ?? {}), {} as Record<string, number>),
    longestRecovery: longest != null ? { scenario: longest[0], ms: longest[1] } : null,
    recoveries,
    costs: parts.flatMap((p) => (p.costs ?? []).map((c) => ({ suite: p.name, ...c }))),
    suites: parts.map((p) => ({ name: p.name, checks: p.checks, notes: p.notes }))
  }
  // a run of some files only (vitest filters) must not replace the figures of a full run
  const specs = readdirSync(join(ROOT, 'tests', 'reliability')).filter((f) => f.endsWith('.spec.ts'))
  const name = parts.length >= specs.length ? 'reliability.json' : 'reliability.partial.json'
  writeFileSync(
    join(ROOT, '.reports', name),
    `${JSON.stringify({ ...out, partial: name !== 'reliability.json' }, null, 2)}\n`
  )
}
