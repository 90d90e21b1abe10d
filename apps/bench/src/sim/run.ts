/**
 * The scale simulation: builds networks of growing size with kad-dht's routing code, runs random
 * lookups with none, 10 % and 30 % of the nodes dead, and reports hops, messages, success and
 * memory per node.
 */
import { summarize } from '../stats.js'
import { sha256 } from './distance.js'
import { loadKadInternals } from './kad-internals.js'
import { DEAD_PEER_TIMEOUT_MS, RTT_MAX_MS, RTT_MIN_MS } from './lookup.js'
import { type LookupResult, SimNetwork, type SimNode } from './network.js'

export interface SimulationOptions {
  /** Network sizes. Default: [100, 500, 1000, 2000]. */
  sizes?: number[]
  /** Random lookups per size and dead share. Default: 200. */
  lookups?: number
  /** Shares of all nodes dead, applied in increasing order on the same network. Default: [0, 0.1, 0.3]. */
  deadFractions?: number[]
  /** Lookups also run by kad-dht's own QueryManager (0 % dead), on sizes up to crossCheckMaxN. Default: 50. */
  crossCheckLookups?: number
  /** Largest size that gets the cross-check. Default: 500. */
  crossCheckMaxN?: number
  alpha?: number
  disjointPaths?: number
  k?: number
  seed?: number
  /** Progress lines. */
  log?: (line: string) => void
}

export interface LookupStats {
  lookups: number
  /** Share of lookups whose result's closest peer is the true closest live node. */
  success: number
  /** Mean share of the true k closest live nodes found. */
  recall: number
  hops: ReturnType<typeof summarize>
  messages: ReturnType<typeof summarize>
  failedMessages: ReturnType<typeof summarize>
  /** Distinct peers asked per lookup. */
  distinctPeers: ReturnType<typeof summarize>
  /** Simulated lookup time under the latency model (RTT 10-50 ms, dead peer 2 s). */
  simulatedMs: ReturnType<typeof summarize>
  cpuMsPerLookup: number
}

export interface SizeResult {
  nodes: number
  buildMs: number
  buildCpuMs: number
  /** Heap growth (after GC when available) divided by the number of nodes. */
  heapBytesPerNode: number
  gcForced: boolean
  tableSize: ReturnType<typeof summarize>
  byDead: Array<{ dead: number; stats: LookupStats }>
  /** The same kind of lookups run by kad-dht's own QueryManager, on the same network at 0 % dead. */
  crossCheck?: LookupStats
}

export interface SimulationResult {
  kadDhtVersion: string
  k: number
  alpha: number
  disjointPaths: number
  prefixLength: number
  latencyModel: { rttMinMs: number; rttMaxMs: number; deadPeerTimeoutMs: number }
  sizes: SizeResult[]
  durationMs: number
}

function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc == null) return false
  gc()
  gc()
  return true
}

async function measureLookups(
  net: SimNetwork,
  count: number,
  run: (origin: SimNode, key: Uint8Array) => Promise<LookupResult>
): Promise<LookupStats> {
  const hops: number[] = []
  const messages: number[] = []
  const failed: number[] = []
  const distinct: number[] = []
  const times: number[] = []
  let success = 0
  let recall = 0
  const cpu = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    const origin = net.pick(net.alive())
    const key = net.randomKey()
    const truth = net.trueClosest(sha256(key), origin)
    const result = await run(origin, key)
    if (result.closest[0] != null && result.closest[0] === truth[0]) success++
    const found = new Set(result.closest)
    recall += truth.filter((n) => found.has(n)).length / Math.max(1, truth.length)
    hops.push(result.hops)
    messages.push(result.messages)
    failed.push(result.failed)
    distinct.push(result.distinct)
    times.push(result.timeMs)
  }
  const used = process.cpuUsage(cpu)
  return {
    lookups: count,
    success: success / count,
    recall: recall / count,
    hops: summarize(hops),
    messages: summarize(messages),
    failedMessages: summarize(failed),
    distinctPeers: summarize(distinct),
    simulatedMs: summarize(times.filter((t) => Number.isFinite(t))),
    cpuMsPerLookup: (used.user + used.system) / 1000 / count
  }
}

export async function runSimulation(options: SimulationOptions = {}): Promise<SimulationResult> {
  const started = performance.now()
  const kad = await loadKadInternals()
  const sizes = options.sizes ?? [100, 500, 1000, 2000]
  const lookups = options.lookups ?? 200
  const deadFractions = [...(options.deadFractions ?? [0, 0.1, 0.3])].sort((a, b) => a - b)
  const crossCheckLookups = options.crossCheckLookups ?? 50
  const crossCheckMaxN = options.crossCheckMaxN ?? 500
  const log = options.log ?? (() => {})
  const results: SizeResult[] = []
  let shape: Pick<SimNetwork, 'k' | 'alpha' | 'disjointPaths' | 'prefixLength'> | undefined
  for (const n of sizes) {
    collectGarbage()
    const heapBefore = process.memoryUsage().heapUsed
    const t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const net = new SimNetwork(kad, {
      alpha: options.alpha,
      disjointPaths: options.disjointPaths,
      k: options.k,
      seed: (options.seed ?? 1) + n,
      onProgress: (done, total, phase) => {
        if (done % 500 === 0 || done === total) log(`  N=${n}: ${phase} ${done}/${total}`)
      }
    })
    shape = { k: net.k, alpha: net.alpha, disjointPaths: net.disjointPaths, prefixLength: net.prefixLength }
    await net.build(n)
    const buildMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const gcForced = collectGarbage()
    const heapBytesPerNode = (process.memoryUsage().heapUsed - heapBefore) / n
    const tableSize = summarize(net.tableSizes())
    log(
      `  N=${n}: built in ${(buildMs / 1000).toFixed(1)} s, ${Math.round(tableSize.mean)} routing entries per node`
    )
    let crossCheck: LookupStats | undefined
    if (n <= crossCheckMaxN && crossCheckLookups > 0) {
      crossCheck = await measureLookups(net, crossCheckLookups, (o, k) => net.lookupWithKadDHT(o, k))
    }
    const byDead: SizeResult['byDead'] = []
    for (const dead of deadFractions) {
      net.kill(dead)
      const stats = await measureLookups(net, lookups, (o, k) => net.lookup(o, k))
      byDead.push({ dead, stats })
      log(
        `  N=${n}, ${Math.round(dead * 100)} % dead: success ${(stats.success * 100).toFixed(1)} %, hops ${stats.hops.mean.toFixed(2)}, messages ${stats.messages.mean.toFixed(1)}`
      )
    }
    await net.stop()
    results.push({
      nodes: n,
      buildMs,
      buildCpuMs: (cpu.user + cpu.system) / 1000,
      heapBytesPerNode,
      gcForced,
      tableSize,
      byDead,
      crossCheck
    })
  }
  return {
    kadDhtVersion: kad.version,
    k: shape?.k ?? kad.defaults.k,
    alpha: shape?.alpha ?? options.alpha ?? 3,
    disjointPaths: shape?.disjointPaths ?? options.disjointPaths ?? 3,
    prefixLength: shape?.prefixLength ?? kad.defaults.prefixLength,
    latencyModel: { rttMinMs: RTT_MIN_MS, rttMaxMs: RTT_MAX_MS, deadPeerTimeoutMs: DEAD_PEER_TIMEOUT_MS },
    sizes: results,
    durationMs: performance.now() - started
  }
}
