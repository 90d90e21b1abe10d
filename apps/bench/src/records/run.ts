/**
 * The records benchmark: a 5-node network of agent processes (`chorus-node start`, one OS process
 * each, 127.0.0.1, ephemeral ports) holding 1 KiB records at growing sizes, written once through
 * an agent's HTTP API and once through the library (a sixth node process, lib-writer.ts), beside
 * raw @libp2p/kad-dht nodes (kad-node.ts, one process each) measured in the same run. Every process
 * is stopped and every directory removed at the end, on failure and on interrupt.
 * The phases after the writes are in phases.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  checkReadable,
  measureRepair,
  measureReprovide,
  type Status,
  statusOf,
  waitForMesh,
  waitIdle
} from './phases.js'
import { type PoolResult, recordAddress, recordContent, runPool } from './pool.js'
import {
  type AgentProc,
  dialAddress,
  forkWorker,
  killChildrenOnExit,
  makeTeam,
  rssOf,
  startAgent,
  type Worker
} from './procs.js'
import type { RawBaseline, RecordsResult, RecordsRun, RecordsSizeResult } from './types.js'

export interface RecordsBenchOptions {
  /** Cumulative record counts. Default: 1,000 / 10,000 / 100,000. */
  sizes?: number[]
  /** Stores in flight. Default 16. */
  concurrency?: number
  recordBytes?: number
  /** Which writers to run. Default both. */
  via?: Array<'http' | 'library'>
  /**
   * The agents' reprovide interval from the reprovide phase on (the writes run at the agents'
   * defaults); the window observed for reprovide traffic. Default 120 s.
   */
  reprovideIntervalMs?: number
  /** The agents' repair interval from the reprovide phase on. Default 10 s. */
  repairIntervalMs?: number
  /** Longest wait for a wiped node to be refilled. Default 10 min. */
  refillTimeoutMs?: number
  /** Longest wait for the writer's background work after a step. Default 30 min. */
  idleTimeoutMs?: number
  /** Raw kad-dht puts of the baseline. Default: min(first size, 1000). */
  rawPuts?: number
  /** Kad provides sampled for the per-key provide baseline. Default 20. */
  provideSamples?: number
  log?: (line: string) => void
}

const NODES = 5
const FACTOR = 3
const ROLE = 'backend_developer'
const HERE = dirname(fileURLToPath(import.meta.url))
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The sizes from `BENCH_RECORDS_SIZES` (comma-separated), else `fallback`. */
export function sizesFromEnv(fallback: number[], env = process.env): number[] {
  const raw = env.BENCH_RECORDS_SIZES
  if (raw == null || raw.trim() === '') return fallback
  const sizes = raw
    .split(',')
    .map((s) => Number(s.trim().replace(/_/g, '')))
    .filter((n) => Number.isInteger(n) && n > 0)
  return sizes.length > 0 ? [...new Set(sizes)].sort((a, b) => a - b) : fallback
}

/**
 * Options from the environment: BENCH_RECORDS_SIZES (see `sizesFromEnv`), BENCH_RECORDS_VIA
 * (`http`, `library` or both, comma-separated), BENCH_RECORDS_CONCURRENCY, BENCH_RECORDS_REPROVIDE_MS,
 * BENCH_RECORDS_REPAIR_MS, BENCH_RECORDS_REFILL_MS.
 */
export function optionsFromEnv(fallbackSizes: number[], env = process.env): RecordsBenchOptions {
  const ms = (name: string): number | undefined => {
    const v = Number(env[name])
    return env[name] != null && Number.isFinite(v) && v > 0 ? v : undefined
  }
  const via = (env.BENCH_RECORDS_VIA ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is 'http' | 'library' => s === 'http' || s === 'library')
  const out: RecordsBenchOptions = { sizes: sizesFromEnv(fallbackSizes, env) }
  if (via.length > 0) out.via = via
  const concurrency = ms('BENCH_RECORDS_CONCURRENCY')
  if (concurrency != null) out.concurrency = Math.floor(concurrency)
  const reprovide = ms('BENCH_RECORDS_REPROVIDE_MS')
  if (reprovide != null) out.reprovideIntervalMs = reprovide
  const repair = ms('BENCH_RECORDS_REPAIR_MS')
  if (repair != null) out.repairIntervalMs = repair
  const refill = ms('BENCH_RECORDS_REFILL_MS')
  if (refill != null) out.refillTimeoutMs = refill
  return out
}

type Intervals = Required<Pick<RecordsBenchOptions, 'reprovideIntervalMs' | 'repairIntervalMs'>>

/** An agent's environment: the bench's network, and the short `intervals` when given, else the agent's defaults. */
function agentEnv(intervals: Intervals | undefined, bootstrap: string[], id: string): Record<string, string> {
  return {
    CHORUS_ROLE: ROLE,
    CHORUS_AGENT_ID: id,
    CHORUS_BOOTSTRAP_PEERS: bootstrap.join(','),
    CHORUS_JOIN_STAGGER_MS: '200',
    CHORUS_LOG_LEVEL: 'warn',
    CHORUS_REPLICATION_REPLICATION_FACTOR: String(FACTOR),
    ...(intervals !== undefined
      ? {
          CHORUS_REPLICATION_REPROVIDE_INTERVAL: String(intervals.reprovideIntervalMs),
          CHORUS_REPLICATION_REPAIR_INTERVAL: String(intervals.repairIntervalMs)
        }
      : {}),
    CHORUS_DHT_DISCOVERY_INTERVAL: '10000',
    CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '1000',
    CHORUS_SHUTDOWN_TIMEOUT_MS: '20000'
  }
}

export async function runRecordsBenchmark(options: RecordsBenchOptions = {}): Promise<RecordsResult> {
  const t0 = performance.now()
  const log = options.log ?? (() => {})
  const sizes = options.sizes ?? [1_000, 10_000, 100_000]
  const concurrency = options.concurrency ?? 16
  const recordBytes = options.recordBytes ?? 1024
  const o = {
    reprovideIntervalMs: options.reprovideIntervalMs ?? 120_000,
    repairIntervalMs: options.repairIntervalMs ?? 10_000
  }
  const root = mkdtempSync(join(tmpdir(), 'chorus-records-bench-'))
  const cleanup = (): void => rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  killChildrenOnExit(cleanup)
  const notes: string[] = []
  let raw: RawBaseline | undefined
  let rawError: string | undefined
  const runs: RecordsRun[] = []
  try {
    try {
      raw = await rawBaseline(
        options.rawPuts ?? Math.min(sizes[0] ?? 1000, 1000),
        concurrency,
        recordBytes,
        options.provideSamples ?? 20,
        log
      )
    } catch (err) {
      rawError = (err as Error).message
      log(`records: raw kad-dht baseline failed: ${rawError}`)
    }
    for (const via of options.via ?? (['http', 'library'] as const)) {
      const dir = join(root, via)
      const run: RecordsRun = { via, sizes: [] }
      runs.push(run)
      try {
        await oneRun(run, dir, sizes, concurrency, recordBytes, o, options, raw, log)
      } catch (err) {
        run.error = (err as Error).message
        log(`records (${via}): stopped early: ${run.error}`)
      }
    }
  } finally {
    cleanup()
  }
  notes.push(
    'Restart to ready is measured once every agent reports its background work idle (the writes settled), from spawning `chorus-node start` on the data directory until `/v1/status` says ready; the other four agents keep running.'
  )
  notes.push(
    `The agents write with their default reprovide and repair intervals (what a team runs), replication factor 3, write quorum 2. Before the reprovide phase every agent (and the library writer) is restarted with reprovide interval ${o.reprovideIntervalMs / 1000} s and repair interval ${o.repairIntervalMs / 1000} s, so that one interval fits in the run; the reprovide, refill and read-back phases run with those.`
  )
  return {
    available: true,
    layout: `${NODES} agent processes (chorus-node start, one OS process each, 127.0.0.1, ephemeral ports); the library run adds a sixth node process (createAgent from @chorus/node, no HTTP API) that writes; the raw kad-dht baseline is ${NODES} plain libp2p + @libp2p/kad-dht processes`,
    recordBytes,
    concurrency,
    sizes,
    ...(raw != null ? { raw } : {}),
    ...(rawError != null ? { rawError } : {}),
    runs,
    notes,
    durationMs: performance.now() - t0
  }
}

/** Raw kad-dht: puts/s with `concurrency` in flight and messages per kad provide, on 5 processes. */
async function rawBaseline(
  puts: number,
  concurrency: number,
  bytes: number,
  provideSamples: number,
  log: (line: string) => void
): Promise<RawBaseline> {
  const workers: Worker[] = []
  try {
    for (let i = 0; i < NODES; i++) workers.push(forkWorker(join(HERE, 'kad-node.js'), []))
    const addrs = await Promise.all(workers.map((w) => w.call<{ addr: string }>('start', {}, 120_000)))
    await Promise.all(workers.slice(1).map((w) => w.call('dial', { addr: addrs[0]!.addr }, 60_000)))
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const sizes = await Promise.all(workers.map((w) => w.call<number>('size')))
      if (sizes.every((s) => s >= NODES - 1)) break
      await pause(300)
    }
    log(`records: raw kad-dht baseline: ${puts} puts, ${concurrency} in flight`)
    const r = await workers[0]!.call<{ ok: number; failed: number; ms: number }>('put', {
      count: puts,
      concurrency,
      bytes
    })
    const p = await workers[0]!.call<{ messages: number[] }>('provide', { count: provideSamples })
    const mean = p.messages.reduce((s, m) => s + m, 0) / Math.max(1, p.messages.length)
    log(
      `records: raw kad-dht ${(r.ok / (r.ms / 1000)).toFixed(1)} puts/s, ${mean.toFixed(1)} messages per provide`
    )
    return {
      puts,
      concurrency,
      perSecond: r.ok / (r.ms / 1000),
      failed: r.failed,
      provideSamples: p.messages.length,
      messagesPerProvide: mean
    }
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()))
  }
}

async function oneRun(
  run: RecordsRun,
  dir: string,
  sizes: number[],
  concurrency: number,
  recordBytes: number,
  o: Intervals,
  options: RecordsBenchOptions,
  raw: RawBaseline | undefined,
  log: (line: string) => void
): Promise<void> {
  const via = run.via
  const ids = Array.from({ length: NODES }, (_, i) => `bench-${i + 1}`)
  const writerId = via === 'http' ? ids[0]! : 'bench-lib'
  await makeTeam(dir, via === 'http' ? ids : [...ids, writerId], ROLE)
  const agents: AgentProc[] = []
  let writer: Worker | undefined
  let stopping = false
  try {
    agents.push(await startAgent(ids[0]!, join(dir, ids[0]!), agentEnv(undefined, [], ids[0]!)))
    const boot = dialAddress(agents[0]!.info)
    agents.push(
      ...(await Promise.all(
        ids.slice(1).map((id) => startAgent(id, join(dir, id), agentEnv(undefined, [boot], id)))
      ))
    )
    await waitForMesh(agents, NODES - 1)
    const startWriter = async (intervals: Intervals | undefined): Promise<Worker> => {
      const { AGENT_NODE_FLAGS } = await import('@chorus/node')
      const w = forkWorker(
        join(HERE, 'lib-writer.js'),
        [],
        {
          ...agentEnv(intervals, [dialAddress(agents[0]!.info)], writerId),
          CHORUS_DATA_DIR: join(dir, writerId),
          CHORUS_LOG_LEVEL: 'error'
        },
        // the flags `chorus-node start` gives its agents, so both runs measure the same process
        AGENT_NODE_FLAGS
      )
      w.child.once('exit', (code, signal) => {
        if (!stopping && w === writer) run.writerExited = `exit code ${code ?? signal}`
      })
      await w.call('start', {}, 180_000)
      await waitForMesh(agents, NODES)
      return w
    }
    if (via === 'library') writer = await startWriter(undefined)
    log(`records (${via}): ${NODES} agents up${writer != null ? ' and the library writer' : ''}`)
    const writerStatus = (): Promise<Status> =>
      writer != null ? writer.call<Status>('status', {}, 60_000) : statusOf(agents[0]!)
    const enc = (i: number): { address: string; content: string; contentType: string } => ({
      address: recordAddress(writerId, ROLE, i),
      content: recordContent(i, recordBytes),
      contentType: 'text/plain'
    })
    let held = 0
    // stores that failed are counted as failures and not read back (the writer was told)
    const failedStores = new Set<number>()
    for (const size of sizes) {
      const count = size - held
      if (count <= 0) continue
      log(`records (${via}): writing ${count} records (${held} -> ${size}), ${concurrency} in flight`)
      const started = performance.now()
      const result =
        writer != null
          ? await writer.call<PoolResult>('write', {
              first: held,
              count,
              concurrency,
              bytes: recordBytes,
              agentId: writerId,
              role: ROLE
            })
          : await runPool(
              count,
              concurrency,
              async (i) => {
                const res = await agents[0]!.api<{ error?: { code?: string } }>('POST', '/v1/content', enc(i))
                if (res.status !== 201)
                  throw new Error(`HTTP ${res.status} ${res.body.error?.code ?? ''}`.trim())
              },
              held
            )
      for (const i of result.failedIndices) failedStores.add(i)
      const idle = await waitIdle(writerStatus, options.idleTimeoutMs ?? 30 * 60_000)
      const untilIdleMs = performance.now() - started
      held = size
      const rss = [
        ...agents.map((a) => ({ node: a.name, bytes: rssOf(a.child.pid) })),
        ...(writer != null ? [{ node: writerId, bytes: rssOf(writer.child.pid) }] : [])
      ]
      const step: RecordsSizeResult = {
        records: size,
        written: count,
        storesPerSecond: result.ok / (untilIdleMs / 1000),
        storesPerSecondAtQuorum: result.ok / (result.ms / 1000),
        failures: result.failed,
        errors: idle ? result.errors : { ...result.errors, 'background work not idle within the limit': 1 },
        rss,
        restart: { node: agents[0]!.name, readyMs: Number.NaN }
      }
      log(
        `records (${via}) ${size}: ${step.storesPerSecond.toFixed(1)} stores/s until idle (${step.storesPerSecondAtQuorum.toFixed(1)} at quorum), ${result.failed} failed`
      )
      // restart-to-ready of the first agent (the HTTP writer) on its own data directory, once
      // every agent's background work is idle: on this 2-core machine four busy peers would
      // otherwise measure their own work, not this node's start-up
      try {
        const a = agents[0]!
        await Promise.all(agents.map((x) => waitIdle(() => statusOf(x), 120_000)))
        await a.stop()
        const again = await startAgent(
          a.name,
          a.dataDir,
          agentEnv(undefined, [dialAddress(agents[1]!.info)], a.name)
        )
        agents[0] = again
        step.restart = { node: a.name, readyMs: again.readyMs }
        log(`records (${via}) ${size}: ${a.name} restarted, ready in ${again.readyMs.toFixed(0)} ms`)
        await waitForMesh(agents, NODES - 1, 120_000).catch(() => {})
      } catch (err) {
        step.restart = { node: agents[0]!.name, error: (err as Error).message.slice(0, 300) }
      }
      run.sizes.push(step)
    }
    // the phases below measure one interval each: every node runs the short intervals from here
    log(`records (${via}): restarting every node with the bench's short intervals`)
    for (const [i, a] of agents.entries()) {
      await a.stop()
      agents[i] = await startAgent(
        a.name,
        a.dataDir,
        agentEnv(o, [dialAddress(agents[(i + 1) % NODES]!.info)], a.name)
      )
    }
    await waitForMesh(agents, NODES - 1, 120_000)
    if (writer !== undefined) {
      const old = writer
      writer = undefined
      await old.stop()
      writer = await startWriter(o)
    }
    run.reprovide = await measureReprovide(agents, o.reprovideIntervalMs, raw, log, via)
    run.repair = await measureRepair(
      agents,
      2,
      FACTOR,
      (a, boot) => startAgent(a.name, a.dataDir, agentEnv(o, [boot], a.name)),
      options.refillTimeoutMs ?? 10 * 60_000,
      log,
      via
    )
    run.readable = await checkReadable(
      agents,
      held,
      failedStores,
      (i) => recordAddress(writerId, ROLE, i),
      recordBytes,
      concurrency,
      log,
      via
    )
  } finally {
    stopping = true
    await Promise.allSettled([...agents.map((a) => a.stop()), ...(writer != null ? [writer.stop()] : [])])
  }
}
