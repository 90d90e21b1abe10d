/**
 * One fault run: the schedule from the seed, the clients writing and reading while the faults
 * play, then the faults stop, the network settles, and the final phase reads every address from
 * every node (until all are correct or the settling time is up) and every version by number; the
 * checker then judges the whole history.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname } from 'node:path'
import { readContent } from './api.js'
import { type CheckResult, checkHistory, type Violation } from './checker.js'
import { createHistory, type History } from './history.js'
import { createLabTarget } from './lab/target.js'
import { createLoopbackTarget } from './loopback/target.js'
import { type FaultEvent, playSchedule } from './nemesis.js'
import { createRandom } from './prng.js'
import {
  describeSchedule,
  type FaultKind,
  generateSchedule,
  type Schedule,
  type ScheduleInit
} from './schedule.js'
import type { FaultTarget } from './target.js'
import { atVersion, complete, createWorkload } from './workload.js'

export interface FaultRunInit {
  seed: number
  nodes: number
  /** Time with faults, ms. */
  durationMs: number
  /** Most time for every node to read every acknowledged latest version once the faults stop, ms. Default 60 s. */
  settleMs?: number
  /** Clients per node. Default 2. */
  clientsPerNode?: number
  /** Schedule options beyond seed, nodes and duration. */
  schedule?: Omit<ScheduleInit, 'seed' | 'nodes' | 'durationMs'>
  /**
   * A target to run against, or which one to make of `nodes` agent processes (closed afterwards):
   * `loopback` (127.0.0.1, the default) or `lab` (network namespaces, a NATed site; root only).
   */
  target?: FaultTarget | 'loopback' | 'lab'
  /** Keep the target's files (their path is in the report). */
  keep?: boolean
  /** Write the whole history (JSON) here when the run fails, or always with `keep`. */
  historyFile?: string
  /** `ci` or `soak`, recorded in the report. */
  mode?: string
  log?: (line: string) => void
}

export interface FaultRunReport {
  seed: number
  mode: string
  /** The target's name: `loopback`, `lab` (or what a custom target calls itself). */
  target: string
  nodes: number
  clients: number
  durationMs: number
  settleMs: number
  startedAt: string
  elapsedMs: number
  schedule: string
  /** Faults injected, by kind. */
  faults: Partial<Record<FaultKind, number>>
  /** Faults scheduled but not injected (the target cannot), by kind. */
  skipped: Partial<Record<FaultKind, number>>
  operations: CheckResult['operations']
  /** Final-phase reads (latest from every node, every version by number). */
  finalReads: number
  violations: CheckResult['counts']
  /** The first violations found (at most 50). */
  examples: Violation[]
  valid: boolean
  /** From the end of the last fault to every node reading every acknowledged latest version, ms; null if never. */
  recoveryMs: number | null
  /** Of `recoveryMs`, the wait for the clients' last operations (the final reads start after them), ms. */
  drainMs: number
  /** Longest time for a killed or wiped agent to answer again after its restart, ms. */
  longestRestartMs: number
  divergent: string[]
  errors: string[]
  machine: { cpus: number; cpuModel: string; node: string }
  /** Where the agents' data and logs are, when kept. */
  root?: string
  /** Where the whole history was written (runs with a violation, or when asked). */
  historyFile?: string
  events: FaultEvent[]
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function runFaults(init: FaultRunInit): Promise<FaultRunReport> {
  const log = init.log ?? (() => {})
  const settleMs = init.settleMs ?? 60_000
  const given = typeof init.target === 'object' ? init.target : undefined
  const role = given?.role ?? 'backend_developer'
  const own = given === undefined
  const made = { nodes: init.nodes, role, keep: init.keep === true, log }
  const target: FaultTarget =
    given ?? (init.target === 'lab' ? await createLabTarget(made) : await createLoopbackTarget(made))
  const schedule: Schedule = generateSchedule({
    ...init.schedule,
    ...(target.relayNodes !== undefined ? { relayNodes: target.relayNodes } : {}),
    seed: init.seed,
    nodes: init.nodes,
    durationMs: init.durationMs
  })
  log(describeSchedule(schedule))
  const startedAt = new Date()
  const errors: string[] = []
  const history = createHistory()
  let events: FaultEvent[] = []
  let recoveryMs: number | null = null
  let drainMs = 0
  let addresses: string[] = []
  const clients = init.nodes * (init.clientsPerNode ?? 2)
  try {
    if ('start' in target && typeof target.start === 'function')
      await (target as { start(): Promise<void> }).start()
    const t0 = performance.now()
    const clock = () => performance.now() - t0
    const random = createRandom(schedule.seed)
    const workload = createWorkload({ clients, role }, target, history, random.fork(1_000_000), clock)
    addresses = workload.addresses
    const stop = new AbortController()
    const clientsDone = workload.run(stop.signal)
    events = await playSchedule(schedule, target, clock, new AbortController().signal, log)
    await pause(Math.max(0, schedule.durationMs - clock()))
    // no fault may outlive the schedule, whatever failed on the way
    await target.heal().catch((e: Error) => errors.push(`heal: ${e.message}`))
    for (let n = 0; n < init.nodes; n++) {
      if (!target.unsupported.has('relay') && (target.relayNodes ?? []).includes(n))
        await target.restoreRelay(n).catch((e: Error) => errors.push(`relay back: ${e.message}`))
      if (!target.unsupported.has('loss'))
        await target.setLoss(n, 0).catch((e: Error) => errors.push(`loss off: ${e.message}`))
      if (target.endpoint(n) === undefined)
        await target.restart(n).catch((e: Error) => errors.push(`restart ${n}: ${e.message}`))
    }
    for (const e of events) if (e.error !== undefined) errors.push(`${e.description}: ${e.error}`)
    const faultsEnd = clock()
    stop.abort()
    await clientsDone
    drainMs = Math.round(clock() - faultsEnd)
    log(
      `${(clock() / 1000).toFixed(1)}s faults over; ${history.ops.length} history entries; settling (at most ${settleMs / 1000} s)`
    )
    recoveryMs = await finalPhase(target, history, addresses, clock, faultsEnd, settleMs, log)
  } catch (err) {
    errors.push((err as Error).message)
  } finally {
    if (own && 'close' in target) await (target as { close(): Promise<void> }).close().catch(() => undefined)
  }
  const result = checkHistory(history)
  const count = (pick: (e: FaultEvent) => boolean) => {
    const out: Partial<Record<FaultKind, number>> = {}
    for (const e of events.filter(pick)) out[e.kind] = (out[e.kind] ?? 0) + 1
    return out
  }
  const report: FaultRunReport = {
    seed: schedule.seed,
    mode: init.mode ?? 'ci',
    target: target.name ?? 'custom',
    nodes: init.nodes,
    clients,
    durationMs: init.durationMs,
    settleMs,
    startedAt: startedAt.toISOString(),
    elapsedMs: Date.now() - startedAt.getTime(),
    schedule: describeSchedule(schedule),
    faults: count((e) => e.skipped !== true),
    skipped: count((e) => e.skipped === true),
    operations: result.operations,
    finalReads: history.ops.filter((o) => o.final === true && o.type !== 'invoke').length,
    violations: result.counts,
    examples: result.violations.slice(0, 50),
    valid: result.valid && errors.length === 0,
    recoveryMs,
    drainMs,
    longestRestartMs: Math.max(0, ...events.map((e) => e.restartMs ?? 0)),
    divergent: result.divergent,
    errors,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    events,
    ...(init.keep === true && 'root' in target ? { root: String((target as { root: string }).root) } : {})
  }
  if (init.historyFile !== undefined && (!report.valid || init.keep === true)) {
    mkdirSync(dirname(init.historyFile), { recursive: true })
    writeFileSync(
      init.historyFile,
      `${JSON.stringify({ seed: report.seed, events, ops: history.ops }, null, 1)}\n`
    )
    report.historyFile = init.historyFile
    log(`history: ${init.historyFile}`)
  }
  if (!report.valid)
    log(
      `FAILED: seed ${report.seed}; repeat with --seed ${report.seed} --nodes ${init.nodes} --duration ${init.durationMs / 1000} --target ${report.target}`
    )
  return report
}

/**
 * Reads every address from every node in rounds until each node reads at least the latest
 * acknowledged version of each (or the settling time is up), then every version of each address
 * by number. Returns the time from the end of the faults to the first all-correct round.
 */
async function finalPhase(
  target: FaultTarget,
  history: History,
  addresses: string[],
  clock: () => number,
  faultsEnd: number,
  settleMs: number,
  log: (line: string) => void
): Promise<number | null> {
  const acked = new Map<string, number>()
  for (const op of history.ops)
    if (op.kind === 'write' && op.type === 'ok' && op.seen !== undefined)
      acked.set(op.address, Math.max(acked.get(op.address) ?? 0, op.seen.version))
  const read = async (node: number, address: string, version?: number) => {
    const invoke = history.add({
      type: 'invoke',
      kind: 'read',
      process: -1,
      client: -1,
      node,
      incarnation: target.incarnation(node),
      address,
      ...(version !== undefined ? { askedVersion: version } : {}),
      time: clock(),
      final: true
    })
    const ep = target.endpoint(node)
    const outcome =
      ep === undefined
        ? ({ type: 'fail', error: 'node down' } as const)
        : await readContent(ep, version === undefined ? address : atVersion(address, version), 15_000)
    return complete(history, invoke, outcome, clock())
  }
  let recovery: number | null = null
  const top = new Map<string, number>()
  for (let round = 1; ; round++) {
    let wrong = 0
    for (let node = 0; node < target.nodes; node++) {
      const results = await Promise.all(addresses.map((a) => read(node, a)))
      for (const r of results) {
        const v = r.type === 'ok' ? (r.seen?.version ?? 0) : -1
        top.set(r.address, Math.max(top.get(r.address) ?? 0, v))
        if (v < (acked.get(r.address) ?? 0)) wrong++
      }
    }
    if (wrong === 0) {
      recovery = Math.round(clock() - faultsEnd)
      log(
        `every node reads every acknowledged latest version ${(recovery / 1000).toFixed(1)} s after the faults (round ${round})`
      )
      break
    }
    if (clock() - faultsEnd > settleMs) {
      log(`${wrong} reads still wrong after ${settleMs / 1000} s of settling`)
      break
    }
    await pause(1_000)
  }
  // every version by number, from the first node that has it (at most 16 reads in flight)
  const wanted = addresses.flatMap((a) =>
    Array.from({ length: Math.max(top.get(a) ?? 0, acked.get(a) ?? 0) }, (_, i) => ({ a, v: i + 1 }))
  )
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < wanted.length) {
      const { a, v } = wanted[next++] as { a: string; v: number }
      for (let k = 0; k < target.nodes; k++) {
        const r = await read((v + k) % target.nodes, a, v)
        if (r.type === 'ok' && r.seen?.version === v) break
      }
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  log(`${wanted.length} versions read by number`)
  return recovery
}
