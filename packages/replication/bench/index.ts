/**
 * Churn benchmark: N real nodes on 127.0.0.1 (TCP), each in its own OS process (bench/node.ts),
 * factor 3, R records each stored only in its author's record store and handed to the author's
 * ReplicationManager. Once every record has 3 live holders, one node is stopped every few seconds
 * (and every third step a stopped one is restarted on its data directory) until half of the nodes
 * are gone. Reported: the share of records still retrievable with a network GET from a surviving
 * node (target: all), the repair traffic, and the time until every record has `factor` live
 * holders again. Same-run baseline: records stored the same way but not handed to a manager (only
 * the author holds them), read back after the same churn.
 *
 *   pnpm --filter @chorus/replication bench            # 20 nodes, 500 records
 *   pnpm --filter @chorus/replication bench --quick    # 6 nodes, 30 records (smoke run)
 *   pnpm --filter @chorus/replication bench --nodes 20 --records 150
 *
 * Progress goes to stderr; bench-results/latest.json gets the results (HELPERS.md format).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { testRecord } from './cluster.ts'
import { type NodeProc, ProcCluster } from './procs.ts'

const quick = process.argv.includes('--quick')
const arg = (name: string): number | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : undefined
}
const NODES = arg('--nodes') ?? (quick ? 6 : 20)
const RECORDS = arg('--records') ?? (quick ? 30 : 500)
const BASELINE_RECORDS = quick ? 10 : Math.max(10, Math.round(RECORDS / 5))
const FACTOR = 3
const STOP_EVERY_MS = quick ? 1_000 : 5_000
const VALUE_BYTES = 1024
/** Bounds of the waits, so the whole run stays bounded (full: <= 12 min, quick: <= 25 s). */
const INITIAL_TIMEOUT_MS = quick ? 8_000 : 240_000
const HEALTHY_TIMEOUT_MS = quick ? 6_000 : 180_000
const QUERY_TIMEOUT_MS = quick ? 3_000 : 10_000
const REQUEST_TIMEOUT_MS = 10_000

const REPLICATION = {
  replicationFactor: FACTOR,
  repairInterval: 10_000,
  repairBackoffMin: quick ? 500 : 2_000,
  repairBackoffMax: quick ? 4_000 : 30_000,
  repairRankDelay: quick ? 500 : 2_000,
  livenessTTL: 5_000,
  requestTimeout: REQUEST_TIMEOUT_MS,
  // not what this run measures; longer than the run so they do not compete with repair
  reprovideInterval: 60 * 60_000,
  republishInterval: 60 * 60_000,
  cleanupInterval: 60_000
}

const here = dirname(fileURLToPath(import.meta.url))
const t0 = Date.now()
const log = (...args: unknown[]): void =>
  console.error(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s]`, ...args)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const round = (x: number): number => Math.round(x * 100) / 100

interface Result {
  name: string
  value: number
  unit: string
  baseline?: { name: string; value: number }
  ratio?: number
  note?: string
}
type Metrics = Record<string, number>

const PREFIX = '/CHORUS/bench/record-'
const key = (i: number): string => `${PREFIX}${i}`
const baselineKey = (i: number): string => `/CHORUS/bench/unmanaged-${i}`

async function main(): Promise<void> {
  const cluster = new ProcCluster(NODES)
  const values = new Map<string, Uint8Array>()
  const results: Result[] = []
  const load = { start: loadavg()[0]!, max: loadavg()[0]! }
  const loadTimer = setInterval(() => {
    load.max = Math.max(load.max, loadavg()[0]!)
  }, 2_000)
  loadTimer.unref()
  const stoppedMetrics: Metrics[] = []
  let ok = false
  try {
    // ---- start: node 0, then the others through it, a few at a time (process start is CPU-heavy)
    let t = Date.now()
    const first = cluster.nodes[0]!
    await first.start(REPLICATION, [], QUERY_TIMEOUT_MS, REQUEST_TIMEOUT_MS)
    const boot = first.multiaddrs.slice(0, 1)
    for (let i = 1; i < NODES; i += 5) {
      await Promise.all(
        cluster.nodes
          .slice(i, i + 5)
          .map((n) => n.start(REPLICATION, boot, QUERY_TIMEOUT_MS, REQUEST_TIMEOUT_MS))
      )
    }
    const filled = (await Promise.all(cluster.nodes.map((n) => n.request('fill', {}, 20_000)))) as Array<{
      routingTable: number
    }>
    log(
      `${NODES} node processes up in ${Date.now() - t} ms; routing tables ${Math.min(...filled.map((f) => f.routingTable))}-${Math.max(...filled.map((f) => f.routingTable))} peers`
    )

    // ---- store: every record only in its author's own record store
    t = Date.now()
    const byAuthor = new Map<
      NodeProc,
      Array<{ key: string; value: Uint8Array; priority: number; managed: boolean }>
    >()
    const add = (
      author: NodeProc,
      rec: { key: string; value: Uint8Array; priority: number; managed: boolean }
    ) => {
      const list = byAuthor.get(author) ?? []
      list.push(rec)
      byAuthor.set(author, list)
    }
    for (let i = 0; i < RECORDS; i++) {
      const value = testRecord(`${i}:${randomBytes(VALUE_BYTES / 2).toString('hex')}`)
      values.set(key(i), value)
      add(cluster.nodes[i % NODES]!, { key: key(i), value, priority: 1 + (i % 9), managed: true })
    }
    for (let i = 0; i < BASELINE_RECORDS; i++) {
      const value = testRecord(`unmanaged ${i}:${randomBytes(VALUE_BYTES / 2).toString('hex')}`)
      values.set(baselineKey(i), value)
      add(cluster.nodes[(i * 7 + 3) % NODES]!, { key: baselineKey(i), value, priority: 1, managed: false })
    }
    await Promise.all([...byAuthor].map(([n, records]) => n.request('store', { records }, 60_000)))
    const storeMs = Date.now() - t
    log(`${RECORDS} records (+${BASELINE_RECORDS} unmanaged) stored in ${storeMs} ms`)
    const initial = await waitAllHealthy(cluster, INITIAL_TIMEOUT_MS, 'initial')
    log(
      `initial replication: ${initial.under === 0 ? 'all healthy' : `${initial.under} still under factor`} after ${initial.ms} ms`
    )
    const initialMetrics = await metricsOf(cluster.ready())
    const memory = (await Promise.all(
      cluster.ready().map((n) => n.request('memory', {}, 10_000).catch(() => undefined))
    )) as Array<{ rss: number } | undefined>
    const rss = memory
      .filter((m): m is { rss: number } => m != null)
      .map((m) => m.rss)
      .sort((a, b) => a - b)
    if (rss.length > 0) {
      results.push({
        name: 'RSS per node process (median)',
        value: round(rss[Math.floor(rss.length / 2)]! / 2 ** 20),
        unit: 'MiB',
        note: `each node its own process (libp2p node, DHT datastore, replication manager) holding about ${Math.round((RECORDS * 3) / NODES)} of the ${RECORDS} records' pins, after initial replication; min ${round(rss[0]! / 2 ** 20)} MiB, max ${round(rss[rss.length - 1]! / 2 ** 20)} MiB over ${rss.length} nodes`
      })
    }
    results.push({
      name: 'initial replication to factor 3',
      value: round(initial.ms / 1000),
      unit: 's',
      note: `${RECORDS} records, each pushed from its author to 2 peers; from the last addContent; records left under factor: ${initial.under}`
    })
    results.push({
      name: 'initial replication throughput',
      value: round(RECORDS / Math.max(0.001, (storeMs + initial.ms) / 1000)),
      unit: 'records/s',
      note: 'store + addContent + every record on 3 nodes'
    })
    const before = sum(initialMetrics)

    // ---- churn: stop one node every few seconds, restart one every third step, until half are down
    t = Date.now()
    let step = 0
    let stops = 0
    let restarts = 0
    let minLive = Number.POSITIVE_INFINITY
    let zeroLiveSeen = 0
    let lastStopAt = Date.now()
    // a restart runs while the churn goes on (a process takes seconds to start on a busy machine)
    const restarting: Array<Promise<void>> = []
    while (cluster.running().length > NODES / 2) {
      step++
      const running = cluster.ready()
      if (running.length === 0) break
      const victim = running[Math.floor(Math.random() * running.length)]!
      stoppedMetrics.push(((await victim.request('metrics', {}, 10_000).catch(() => ({}))) as Metrics) ?? {})
      await victim.stop()
      lastStopAt = Date.now()
      stops++
      if (step % 3 === 0) {
        const down = cluster.nodes.filter((n) => !n.running && n !== victim)
        const back = down[Math.floor(Math.random() * down.length)]
        if (back != null) {
          const peers = cluster
            .ready()
            .slice(0, 3)
            .flatMap((n) => n.multiaddrs.slice(0, 1))
          restarts++
          restarting.push(
            back.start(REPLICATION, peers, QUERY_TIMEOUT_MS, REQUEST_TIMEOUT_MS).catch((err: unknown) => {
              log(`restart of node ${back.index} failed: ${String(err)}`)
              return back.stop(2_000)
            })
          )
        }
      }
      const live = await liveHolderCounts(cluster)
      const m = Math.min(...live)
      minLive = Math.min(minLive, m)
      zeroLiveSeen = Math.max(zeroLiveSeen, live.filter((n) => n === 0).length)
      log(
        `churn step ${step}: ${cluster.running().length}/${NODES} up (${stops} stops, ${restarts} restarts); ` +
          `records under factor ${live.filter((n) => n < FACTOR).length}, min live holders ${m}`
      )
      if (cluster.running().length <= NODES / 2) break
      await sleep(STOP_EVERY_MS)
    }
    await Promise.all(restarting)
    const churnMs = Date.now() - t
    log(`churn done in ${churnMs} ms`)

    // ---- time back to healthy (every record with a live holder has FACTOR of them)
    const back = await waitAllHealthy(cluster, HEALTHY_TIMEOUT_MS, 'after churn')
    const sinceLastStop = Date.now() - lastStopAt
    const lost = (await liveHolderCounts(cluster)).filter((n) => n === 0).length
    log(
      `back to healthy: ${back.under === 0 ? 'yes' : `no (${back.under} under factor)`} ${sinceLastStop} ms after the last stop; ${lost} records with no live holder`
    )
    const after = sum([...stoppedMetrics, ...(await metricsOf(cluster.ready()))])

    // ---- retrievability: a network GET from a random surviving node for every record
    t = Date.now()
    const [managedFirst, managed] = await retrievable(cluster, values, RECORDS, key)
    const [unmanagedFirst, unmanaged] = await retrievable(cluster, values, BASELINE_RECORDS, baselineKey)
    log(
      `retrievable: ${managed}/${RECORDS} managed (${managedFirst} at the first attempt), ` +
        `${unmanaged}/${BASELINE_RECORDS} unmanaged (${unmanagedFirst}) in ${Date.now() - t} ms`
    )

    const msgs = (after.repairMessages ?? 0) - (before.repairMessages ?? 0)
    const received = (after.replicasReceived ?? 0) - (before.replicasReceived ?? 0)
    const bytes = (after.repairBytes ?? 0) - (before.repairBytes ?? 0)
    const managedShare = (100 * managed) / RECORDS
    const unmanagedShare = (100 * unmanaged) / BASELINE_RECORDS
    results.push(
      {
        name: 'records retrievable after churn',
        value: round(managedShare),
        unit: '%',
        baseline: {
          name: 'same churn, records not replicated (author copy only)',
          value: round(unmanagedShare)
        },
        ...(unmanagedShare > 0 ? { ratio: round(managedShare / unmanagedShare) } : {}),
        note: `network GET from a random surviving node, a second one asked when the first finds nothing; ${managed}/${RECORDS} managed (${managedFirst} at the first GET), ${unmanaged}/${BASELINE_RECORDS} unmanaged (${unmanagedFirst}); ${stops} stops, ${restarts} restarts, ${cluster.running().length} of ${NODES} up at the end`
      },
      {
        name: 'time back to healthy after churn',
        value: round(sinceLastStop / 1000),
        unit: 's',
        note: `from the last stop (restarts still starting then included) until every record with a live holder has >= ${FACTOR} (pins on running nodes); under factor at the end: ${back.under}; no live holder: ${lost}`
      },
      {
        name: 'repair pushes during churn and recovery',
        value: msgs,
        unit: 'requests',
        note: `replicate requests sent by all nodes from the first stop until healthy again; ${received} of them gave the receiver a new copy, the others reached a peer that already held the value (a holder counts the holders it knows and pushes instead of asking the DHT)`
      },
      {
        name: 'repair bytes during churn and recovery',
        value: bytes,
        unit: 'bytes',
        note: `${round(bytes / RECORDS)} bytes per record; values are ${VALUE_BYTES + 4}+ bytes`
      },
      {
        name: 'provider lookups during churn',
        value: (after.providerLookups ?? 0) - (before.providerLookups ?? 0),
        unit: 'queries',
        note: 'DHT findProviders queries by repair checks, all nodes'
      },
      {
        name: 'fewest live holders of any record during churn',
        value: minLive,
        unit: 'holders',
        note: `most records with no live holder at one time: ${zeroLiveSeen}`
      },
      {
        name: 'churn duration',
        value: round(churnMs / 1000),
        unit: 's',
        note: `one stop every ${STOP_EVERY_MS} ms`
      }
    )
    ok = true
  } finally {
    clearInterval(loadTimer)
    log('stopping every node')
    await cluster.destroy()
  }
  const totalS = round((Date.now() - t0) / 1000)
  results.push({ name: 'bench run time', value: totalS, unit: 's', note: quick ? 'quick mode' : 'whole run' })
  const common = `${NODES} nodes, one OS process each (not one shared event loop); ${RECORDS} records of ~${VALUE_BYTES} B; factor ${FACTOR}; load average ${load.start.toFixed(1)} at start, up to ${load.max.toFixed(1)}`
  for (const r of results) r.note = r.note == null ? common : `${r.note}. ${common}`
  const out = {
    package: '@chorus/replication',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    mode: quick ? 'quick' : NODES === 20 && RECORDS === 500 ? 'full' : 'reduced',
    config: {
      nodes: NODES,
      records: RECORDS,
      factor: FACTOR,
      stopEveryMs: STOP_EVERY_MS,
      processes: 'one per node'
    },
    results
  }
  if (ok) {
    const dir = join(here, '..', 'bench-results')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`)
  }
  console.log(JSON.stringify(out, null, 2))
}

async function metricsOf(nodes: NodeProc[]): Promise<Metrics[]> {
  return Promise.all(
    nodes.map((n) => n.request('metrics', {}, 10_000).catch(() => ({}) as Metrics))
  ) as Promise<Metrics[]>
}

function sum(all: Metrics[]): Metrics {
  const out: Metrics = {}
  for (const m of all) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v
  return out
}

/** Live holders per managed record: running nodes that pin it. */
async function liveHolderCounts(cluster: ProcCluster): Promise<number[]> {
  const counts = new Map<string, number>()
  const lists = await Promise.all(
    cluster.ready().map((n) => n.request('pins', { prefix: PREFIX }, 10_000).catch(() => [] as string[]))
  )
  for (const list of lists as string[][]) for (const k of list) counts.set(k, (counts.get(k) ?? 0) + 1)
  return Array.from({ length: RECORDS }, (_, i) => counts.get(key(i)) ?? 0)
}

/**
 * Waits until every record that still has a live holder has FACTOR of them (a record whose every
 * holder is down cannot be repaired; it is counted as lost and by the retrievability check).
 */
async function waitAllHealthy(
  cluster: ProcCluster,
  timeout: number,
  what: string
): Promise<{ ms: number; under: number }> {
  const t = Date.now()
  let under = 0
  let lastReport = Date.now()
  while (Date.now() - t < timeout) {
    under = (await liveHolderCounts(cluster)).filter((n) => n > 0 && n < FACTOR).length
    if (under === 0) return { ms: Date.now() - t, under }
    if (Date.now() - lastReport > (quick ? 2_000 : 10_000)) {
      lastReport = Date.now()
      const m = sum(await metricsOf(cluster.ready()))
      log(
        `  ${what}: ${under} records under factor; pushes ok ${m.successfulReplications ?? 0}, ` +
          `failed ${m.failedReplications ?? 0}, checks ${m.repairChecks ?? 0}, lookups ${m.providerLookups ?? 0}, ` +
          `provides ${m.reprovideOperations ?? 0}`
      )
    }
    await sleep(quick ? 200 : 500)
  }
  log(`WARNING: ${what}: ${under} records still under factor after ${timeout} ms`)
  return { ms: Date.now() - t, under }
}

/**
 * Reads every record with a network GET from a random surviving node; a record not found is asked
 * once more from another surviving node (a query on a busy network can end at its timeout before
 * it reaches a holder). Returns [found at the first attempt, found in all].
 */
async function retrievable(
  cluster: ProcCluster,
  values: Map<string, Uint8Array>,
  count: number,
  name: (i: number) => string
): Promise<[number, number]> {
  const running = cluster.ready()
  const found = new Set<string>()
  const attempt = async (keys: string[]): Promise<void> => {
    const byReader = new Map<NodeProc, string[]>()
    for (const k of keys) {
      const reader = running[Math.floor(Math.random() * running.length)]!
      byReader.set(reader, [...(byReader.get(reader) ?? []), k])
    }
    await Promise.all(
      [...byReader].map(async ([reader, ks]) => {
        const got = (await reader
          .request('get', { keys: ks, concurrency: 2 }, 300_000)
          .catch(() => [])) as Array<Uint8Array | null>
        ks.forEach((k, i) => {
          const v = got[i]
          if (v != null && Buffer.from(v).equals(Buffer.from(values.get(k)!))) found.add(k)
        })
      })
    )
  }
  const all = Array.from({ length: count }, (_, i) => name(i))
  await attempt(all)
  const first = found.size
  await attempt(all.filter((k) => !found.has(k)))
  return [first, found.size]
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  }
)
