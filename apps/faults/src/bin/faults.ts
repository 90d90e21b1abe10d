#!/usr/bin/env node
/**
 * pnpm --filter @chorus/faultcheck faults [--target loopback|lab] [--seed N] [--duration S] [--nodes K]
 *   [--settle S] [--soak] [--preset full|ci] [--keep] [--out FILE]
 * One randomized fault run on agent processes (127.0.0.1, or the network lab's namespaces); writes
 * .reports/faults.json; exits 1 on a violation, printing the seed to repeat it.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { labUnavailableReason } from '@chorus/netlab'
import { closeLabTargets } from '../lab/target.js'
import { closeLoopbackTargets } from '../loopback/target.js'
import { normalizeSeed, randomSeed } from '../prng.js'
import { workspaceRoot, writeFaultsReport } from '../report.js'
import { runFaults } from '../run.js'
import { CI_SCHEDULE, LAB_CI_SCHEDULE } from '../schedule.js'

/** A line on stdout: this is a command-line program. */
const say = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'loopback' },
    seed: { type: 'string' },
    duration: { type: 'string' },
    nodes: { type: 'string' },
    settle: { type: 'string' },
    soak: { type: 'boolean', default: false },
    preset: { type: 'string', default: 'full' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' }
  }
})
const num = (v: string | undefined, fallback: number, what: string): number => {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) {
    say(`--${what} must be a positive number`)
    process.exit(2)
  }
  return n
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    say(`${sig}: stopping the agents and removing the firewall rules and the lab`)
    void Promise.all([closeLoopbackTargets(), closeLabTargets()]).finally(() => process.exit(130))
  })
if (values.preset !== 'full' && values.preset !== 'ci') {
  say('--preset must be full (every fault kind) or ci (the CI run: shorter faults, no disk wipe)')
  process.exit(2)
}
if (values.target !== 'loopback' && values.target !== 'lab') {
  say('--target must be loopback (agents on 127.0.0.1) or lab (network namespaces, a site behind NAT)')
  process.exit(2)
}
const target = values.target
if (target === 'lab') {
  const why = labUnavailableReason()
  if (why !== undefined) {
    say(`the lab cannot run here: ${why}`)
    process.exit(2)
  }
}
const preset = values.preset
const soak = values.soak === true
const seed = values.seed === undefined ? randomSeed() : normalizeSeed(num(values.seed, 0, 'seed'))
const nodes = num(values.nodes, soak ? 7 : 5, 'nodes')
const duration = num(values.duration, soak ? 600 : 90, 'duration')
const settle = num(values.settle, soak ? 120 : 60, 'settle')
say(
  `fault run: seed ${seed}, ${nodes} nodes, ${duration} s of faults, target ${target}${soak ? ' (soak)' : ''}`
)
const report = await runFaults({
  seed,
  nodes,
  durationMs: duration * 1000,
  settleMs: settle * 1000,
  mode: soak ? 'soak' : preset,
  target,
  ...(preset === 'ci' ? { schedule: target === 'lab' ? LAB_CI_SCHEDULE : CI_SCHEDULE } : {}),
  keep: values.keep === true,
  historyFile: join(workspaceRoot(), '.reports', `faults-history-${seed}.json`),
  log: say
})
const path = writeFaultsReport([report], values.out)
say(
  `${Object.values(report.operations).reduce((a, b) => a + b, 0)} operations, ${report.finalReads} final reads, ` +
    `faults ${JSON.stringify(report.faults)}, violations ${JSON.stringify(report.violations)}, ` +
    `recovery ${report.recoveryMs ?? 'never'} ms; report: ${path}`
)
if (!report.valid) {
  for (const v of report.examples.slice(0, 20))
    say(`  ${v.property} ${v.address}: ${v.detail} (ops ${v.ops.join(', ')})`)
  for (const e of report.errors) say(`  error: ${e}`)
  say(
    `FAILED. Repeat with: pnpm --filter @chorus/faultcheck faults --target ${target} --seed ${seed} --nodes ${nodes} --duration ${duration} --settle ${settle} --preset ${preset}`
  )
  process.exit(1)
}
