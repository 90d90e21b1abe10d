/**
 * Churn benchmark: N real nodes on 127.0.0.1 (TCP), factor 3, R records each stored only in its
 * author's record store and handed to the author's ReplicationManager. Then one node is stopped
 * every few seconds (and every third step a stopped one is restarted on its data directory) until
 * half of the nodes are gone. Reported: the share of records still retrievable with a network GET
 * from a surviving node (target: all), the repair traffic, and the time until every record has
 * `factor` live holders again. Same-run baseline: records stored the same way but not handed to a
 * manager (only the author holds them), read back after the same churn.
 *
 *   pnpm --filter @chorus/replication bench            # 20 nodes, 500 records
 *   pnpm --filter @chorus/replication bench --quick    # 8 nodes, 40 records (smoke run)
 *   pnpm --filter @chorus/replication bench --nodes 20 --records 150
 *
 * Writes bench-results/latest.json (HELPERS.md format).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ReplicationMetrics } from '../dist/index.js'
import { createReplicationManager } from '../dist/index.js'
import { Cluster, testRecord } from './cluster.ts'

const quick = process.argv.includes('--quick')
const arg = (name: string): number | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : undefined
}
const NODES = arg('--nodes') ?? (quick ? 8 : 20)
const RECORDS = arg('--records') ?? (quick ? 40 : 500)
const BASELINE_RECORDS = quick ? 10 : Math.max(10, Math.round(RECORDS / 5))
const FACTOR = 3
const STOP_EVERY_MS = quick ? 2_000 : 5_000
const VALUE_BYTES = 1024
const HEALTHY_TIMEOUT_MS = quick ? 120_000 : 900_000

const here = dirname(fileURLToPath(import.meta.url))
const log = (...args: unknown[]): void => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...args)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Result {
  name: string
  value: number
  unit: string
  baseline?: { name: string; value: number }
  ratio?: number
  note?: string
}

const key = (i: number): string => `/CHORUS/bench/record-${i}`
const baselineKey = (i: number): string => `/CHORUS/bench/unmanaged-${i}`

async function main(): Promise<void> {
  const metricsOfStopped: ReplicationMetrics[] = []
  const cluster = new Cluster({
    size: NODES,
    createManager: createReplicationManager,
    // 20 nodes share one event loop here: generous timeouts so a busy peer is not taken for a dead one
    queryTimeout: 15_000,
    requestTimeout: 15_000,
    replication: {
      replicationFactor: FACTOR,
      repairInterval: 10_000,
      repairBackoffMin: 2_000,
      repairBackoffMax: 30_000,
      repairRankDelay: 2_000,
      livenessTTL: 5_000,
      requestTimeout: 15_000,
      // not what this run measures; longer than the run so they do not compete with repair
      reprovideInterval: 60 * 60_000,
      republishInterval: 60 * 60_000,
      cleanupInterval: 60_000
    }
  })
  const values = new Map<string, Uint8Array>()
  const results: Result[] = []
  try {
    let t = Date.now()
    await cluster.start()
    log(`${NODES} nodes up in ${Date.now() - t} ms`)

    // store: every record only in its author's own record store
    t = Date.now()
    for (let i = 0; i < RECORDS; i++) {
      const author = cluster.nodes[i % NODES]!
      const value = testRecord(`${i}:${randomBytes(VALUE_BYTES / 2).toString('hex')}`)
      values.set(key(i), value)
      await author.dht!.putValue(key(i), value, { localOnly: true })
      await author.manager!.addContent(key(i), value.byteLength, 1 + (i % 9))
    }
    for (let i = 0; i < BASELINE_RECORDS; i++) {
      const value = testRecord(`unmanaged ${i}:${randomBytes(VALUE_BYTES / 2).toString('hex')}`)
      values.set(baselineKey(i), value)
      await cluster.nodes[i % NODES]!.dht!.putValue(baselineKey(i), value, { localOnly: true })
    }
    log(`${RECORDS} records (+${BASELINE_RECORDS} unmanaged) stored in ${Date.now() - t} ms`)
    const initial = await waitAllHealthy(cluster, HEALTHY_TIMEOUT_MS)
    log(`initial replication: all healthy after ${initial} ms`)
    results.push({
      name: 'initial replication to factor 3',
      value: initial / 1000,
      unit: 's',
      note: `${RECORDS} records, each pushed from its author to 2 peers`
    })
    const before = totals(cluster, metricsOfStopped)

    // churn: stop one node every few seconds, restart one every third step, until half are down
    t = Date.now()
    let step = 0
    let stops = 0
    let restarts = 0
    let minLive = Number.POSITIVE_INFINITY
    let zeroLiveSeen = 0
    while (cluster.running().length > NODES / 2) {
      step++
      const running = cluster.running()
      const victim = running[Math.floor(Math.random() * running.length)]!
      metricsOfStopped.push(victim.manager!.getMetrics())
      await cluster.stopNode(victim.index)
      stops++
      if (step % 3 === 0) {
        const down = cluster.nodes.filter((n) => n.dht == null && n.index !== victim.index)
        const back = down[Math.floor(Math.random() * down.length)]
        if (back != null) {
          await cluster.startNode(back.index)
          restarts++
        }
      }
      const live = liveHolderCounts(cluster)
      const m = Math.min(...live)
      minLive = Math.min(minLive, m)
      zeroLiveSeen = Math.max(zeroLiveSeen, live.filter((n) => n === 0).length)
      log(
        `step ${step}: ${cluster.running().length}/${NODES} up (${stops} stops, ${restarts} restarts); ` +
          `records under factor ${live.filter((n) => n < FACTOR).length}, min live holders ${m}`
      )
      await sleep(STOP_EVERY_MS)
    }
    const churnMs = Date.now() - t
    log(`churn done in ${churnMs} ms`)

    // time back to healthy (every record on FACTOR live holders)
    const back = await waitAllHealthy(cluster, HEALTHY_TIMEOUT_MS)
    const lost = liveHolderCounts(cluster).filter((n) => n === 0).length
    log(`back to healthy ${back} ms after the last stop; ${lost} records with no live holder`)

    // retrievability: a network GET from a random surviving node for every record
    t = Date.now()
    const managed = await retrievable(cluster, values, RECORDS, key)
    const unmanaged = await retrievable(cluster, values, BASELINE_RECORDS, baselineKey)
    log(
      `retrievable: ${managed}/${RECORDS} managed, ${unmanaged}/${BASELINE_RECORDS} unmanaged (${Date.now() - t} ms)`
    )

    const after = totals(cluster, metricsOfStopped)
    const msgs = after.repairMessages - before.repairMessages
    const bytes = after.repairBytes - before.repairBytes
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
        note: `${managed}/${RECORDS} managed, ${unmanaged}/${BASELINE_RECORDS} unmanaged; ${NODES} nodes, ${stops} stops, ${restarts} restarts, ${cluster.running().length} up at the end`
      },
      {
        name: 'time back to healthy after churn',
        value: round(back / 1000),
        unit: 's',
        note: `every record with a live holder on >= ${FACTOR} of them (pins on running nodes), from the last stop; records with no live holder at the end: ${lost}`
      },
      {
        name: 'repair messages during churn',
        value: msgs,
        unit: 'requests',
        note: 'replicate pushes sent, all nodes'
      },
      {
        name: 'repair bytes during churn',
        value: bytes,
        unit: 'bytes',
        note: `${round(bytes / RECORDS)} bytes per record; values are ${VALUE_BYTES + 4}+ bytes`
      },
      {
        name: 'provider lookups during churn',
        value: after.providerLookups - before.providerLookups,
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
  } finally {
    await cluster.destroy()
  }
  const out = {
    package: '@chorus/replication',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    mode: quick ? 'quick' : NODES === 20 && RECORDS === 500 ? 'full' : 'reduced',
    config: { nodes: NODES, records: RECORDS, factor: FACTOR, stopEveryMs: STOP_EVERY_MS },
    results
  }
  const dir = join(here, '..', 'bench-results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`)
  console.log(JSON.stringify(out, null, 2))
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

/** Live holders per managed record: running nodes that pin it. */
function liveHolderCounts(cluster: Cluster): number[] {
  const counts = new Map<string, number>()
  for (const n of cluster.running()) {
    for (const k of n.manager!.listContent()) {
      if (k.startsWith('/CHORUS/bench/record-') && n.manager!.getPinnedValue(k) != null) {
        counts.set(k, (counts.get(k) ?? 0) + 1)
      }
    }
  }
  return Array.from({ length: RECORDS }, (_, i) => counts.get(key(i)) ?? 0)
}

/**
 * Waits until every record that still has a live holder has FACTOR of them (a record whose every
 * holder is down cannot be repaired; it is counted as lost and by the retrievability check).
 */
async function waitAllHealthy(cluster: Cluster, timeout: number): Promise<number> {
  const t = Date.now()
  let under = 0
  let lastReport = Date.now()
  while (Date.now() - t < timeout) {
    under = liveHolderCounts(cluster).filter((n) => n > 0 && n < FACTOR).length
    if (under === 0) return Date.now() - t
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now()
      const m = cluster.running().map((n) => n.manager!.getMetrics())
      const sum = (f: (x: ReplicationMetrics) => number): number => m.reduce((a, x) => a + f(x), 0)
      log(
        `  ${under} records under factor; pushes ok ${sum((x) => x.successfulReplications)}, ` +
          `failed ${sum((x) => x.failedReplications)}, checks ${sum((x) => x.repairChecks)}, ` +
          `lookups ${sum((x) => x.providerLookups)}, provides ${sum((x) => x.reprovideOperations)}`
      )
    }
    await sleep(500)
  }
  log(`WARNING: ${under} records still under factor after ${timeout} ms`)
  return Date.now() - t
}

function totals(cluster: Cluster, stopped: ReplicationMetrics[]) {
  const all = [...stopped, ...cluster.running().map((n) => n.manager!.getMetrics())]
  const sum = (f: (m: ReplicationMetrics) => number): number => all.reduce((a, m) => a + f(m), 0)
  return {
    repairMessages: sum((m) => m.repairMessages),
    repairBytes: sum((m) => m.repairBytes),
    providerLookups: sum((m) => m.providerLookups)
  }
}

async function retrievable(
  cluster: Cluster,
  values: Map<string, Uint8Array>,
  count: number,
  name: (i: number) => string
): Promise<number> {
  let ok = 0
  let next = 0
  const running = cluster.running()
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      const reader = running[Math.floor(Math.random() * running.length)]!
      try {
        const v = await reader.dht!.getValue(name(i))
        if (Buffer.from(v).equals(Buffer.from(values.get(name(i))!))) ok++
      } catch {
        // not found
      }
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return ok
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  }
)
