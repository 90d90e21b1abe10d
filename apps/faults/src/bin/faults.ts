#!/usr/bin/env node
/**
 * pnpm --filter @chorus/faultcheck faults [--seed N] [--duration S] [--nodes K] [--settle S] [--soak] [--keep] [--out FILE]
 * One randomized fault run on loopback agent processes; writes .reports/faults.json; exits 1 on a
 * violation, printing the seed to repeat it.
 */
import { parseArgs } from 'node:util'
import { normalizeSeed, randomSeed } from '../prng.js'
import { writeFaultsReport } from '../report.js'
import { runFaults } from '../run.js'

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    duration: { type: 'string' },
    nodes: { type: 'string' },
    settle: { type: 'string' },
    soak: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' }
  }
})
const num = (v: string | undefined, fallback: number, what: string): number => {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${what} must be a positive number`)
    process.exit(2)
  }
  return n
}
const soak = values.soak === true
const seed = values.seed === undefined ? randomSeed() : normalizeSeed(num(values.seed, 0, 'seed'))
const nodes = num(values.nodes, soak ? 7 : 5, 'nodes')
const duration = num(values.duration, soak ? 600 : 90, 'duration')
const settle = num(values.settle, soak ? 120 : 60, 'settle')
console.log(`fault run: seed ${seed}, ${nodes} nodes, ${duration} s of faults${soak ? ' (soak)' : ''}`)
const report = await runFaults({
  seed,
  nodes,
  durationMs: duration * 1000,
  settleMs: settle * 1000,
  mode: soak ? 'soak' : 'ci',
  keep: values.keep === true,
  log: (line) => console.log(line)
})
const path = writeFaultsReport([report], values.out)
console.log(
  `${Object.values(report.operations).reduce((a, b) => a + b, 0)} operations, ${report.finalReads} final reads, ` +
    `violations ${JSON.stringify(report.violations)}, recovery ${report.recoveryMs ?? 'never'} ms; report: ${path}`
)
if (!report.valid) {
  for (const v of report.examples.slice(0, 20)) console.log(`  ${v.property} ${v.address}: ${v.detail} (ops ${v.ops.join(', ')})`)
  for (const e of report.errors) console.log(`  error: ${e}`)
  console.log(`FAILED. Repeat with: pnpm --filter @chorus/faultcheck faults --seed ${seed} --nodes ${nodes} --duration ${duration}`)
  process.exit(1)
}
