// Benchmark: put and get latency of LibP2PDHT beside raw @libp2p/kad-dht, same run, same machine.
// Each implementation gets its own N-node network on 127.0.0.1 in this process, one after the
// other (two networks at once double the background work and starve both on a small machine);
// each phase warms up with a few unmeasured operations, then times puts from a random node and
// gets from another random node.
//   node bench/index.ts            20 nodes, 100 puts and 100 gets per implementation
//   node bench/index.ts --quick    8 nodes, 15 of each (smoke run)
//   --nodes N, --ops N             override either
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKadBaselineNetwork, startNetwork } from '../dist/testing/index.js'

const quick = process.argv.includes('--quick')
function flag(name: string): number | undefined {
  const i = process.argv.indexOf(name)
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN
  return Number.isInteger(v) && v > 0 ? v : undefined
}
const NODES = flag('--nodes') ?? (quick ? 8 : 20)
const OPS = flag('--ops') ?? (quick ? 15 : 100)
const WARMUP = 3
const VALUE_BYTES = 256
const OP_TIMEOUT = 30_000

interface Target {
  put(node: number, key: string, value: Uint8Array): Promise<number>
  get(node: number, key: string): Promise<unknown>
}

interface Phase {
  start: number
  put: number[]
  get: number[]
  putFailures: number
  getFailures: number
  acks: number
  load: number
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

function pick(n: number, not?: number): number {
  for (;;) {
    const i = Math.floor(Math.random() * n)
    if (i !== not) return i
  }
}

const round = (x: number): number => Math.round(x * 10) / 10

async function measure(label: string, target: Target, start: number): Promise<Phase> {
  const phase: Phase = { start, put: [], get: [], putFailures: 0, getFailures: 0, acks: 0, load: 0 }
  const loads: number[] = []
  for (let i = -WARMUP; i < OPS; i++) {
    const value = crypto.getRandomValues(new Uint8Array(VALUE_BYTES))
    const writer = pick(NODES)
    const reader = pick(NODES, writer)
    const key = `/CHORUS/bench/${label}-${i}`
    let t0 = performance.now()
    let putOk = true
    try {
      const acks = await target.put(writer, key, value)
      if (i >= 0) {
        phase.put.push(performance.now() - t0)
        phase.acks += acks
      }
    } catch (err) {
      putOk = false
      if (i >= 0) phase.putFailures++
      if (phase.putFailures <= 3) console.log(`  ${label} put failed: ${describe(err)}`)
    }
    t0 = performance.now()
    try {
      await target.get(reader, key)
      if (i >= 0) phase.get.push(performance.now() - t0)
    } catch (err) {
      if (i >= 0) phase.getFailures++
      if (phase.getFailures <= 3)
        console.log(`  ${label} get failed${putOk ? '' : ' (after a failed put)'}: ${describe(err)}`)
    }
    loads.push(loadavg()[0] ?? 0)
    if (i >= 0 && (i + 1) % 10 === 0) {
      console.log(`  ${label} ${i + 1}/${OPS} (load average ${loadavg()[0]?.toFixed(1)})`)
    }
  }
  phase.load = loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)
  phase.put.sort((a, b) => a - b)
  phase.get.sort((a, b) => a - b)
  return phase
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string } }
  return `${e.name}: ${e.message}${e.cause?.message != null ? ` (cause: ${e.cause.message})` : ''}`
}

async function runOurs(): Promise<Phase> {
  const t0 = performance.now()
  // discovery off: the baseline runs no background discovery either
  const net = await startNetwork({ nodes: NODES, readyTimeout: 60_000, init: { discoveryInterval: 0 } })
  const start = performance.now() - t0
  console.log(`LibP2PDHT network up in ${Math.round(start)} ms`)
  try {
    return await measure(
      'LibP2PDHT',
      {
        put: async (n, key, value) => (await net.nodes[n]!.putValue(key, value)).acks.length,
        get: (n, key) => net.nodes[n]!.getValue(key)
      },
      start
    )
  } finally {
    await net.stop()
  }
}

async function runRaw(): Promise<Phase> {
  const t0 = performance.now()
  const raw = await startKadBaselineNetwork({ nodes: NODES, readyTimeout: 60_000 })
  const start = performance.now() - t0
  console.log(`raw kad-dht network up in ${Math.round(start)} ms`)
  try {
    return await measure(
      'raw',
      {
        // the same 30 s limit as LibP2PDHT's queryTimeout (kad-dht's own default is 180 s)
        put: async (n, key, value) => {
          await raw.put(n, key, value, { signal: AbortSignal.timeout(OP_TIMEOUT) })
          return Number.NaN
        },
        get: (n, key) => raw.get(n, key, { signal: AbortSignal.timeout(OP_TIMEOUT) })
      },
      start
    )
  } finally {
    await raw.stop()
  }
}

async function main(): Promise<void> {
  console.log(`dht bench: ${NODES} nodes, ${OPS} puts and gets per implementation${quick ? ' (quick)' : ''}`)
  const ours = await runOurs()
  const raw = await runRaw()

  const setting = `${NODES}-node loopback network in one process, ${VALUE_BYTES}-byte values; mean load average ${ours.load.toFixed(1)} (LibP2PDHT phase) / ${raw.load.toFixed(1)} (raw phase) on ${cpus().length} cores`
  const results: Array<Record<string, unknown>> = []
  const pair = (what: string, o: number, r: number, note: string) => {
    results.push({
      name: `LibP2PDHT ${what}`,
      value: round(o),
      unit: 'ms',
      baseline: { name: `raw @libp2p/kad-dht ${what}`, value: round(r) },
      ratio: Math.round((o / r) * 100) / 100,
      note
    })
  }
  const meanAcks = ours.put.length > 0 ? round(ours.acks / ours.put.length) : 0
  pair(
    'put p50',
    percentile(ours.put, 50),
    percentile(raw.put, 50),
    `${setting}; LibP2PDHT waits for and counts PUT_VALUE acks (mean ${meanAcks} per put), raw put resolves whatever peers answered`
  )
  pair('put p99', percentile(ours.put, 99), percentile(raw.put, 99), setting)
  pair(
    'get p50',
    percentile(ours.get, 50),
    percentile(raw.get, 50),
    `${setting}; the reader is another random node than the writer`
  )
  pair('get p99', percentile(ours.get, 99), percentile(raw.get, 99), setting)
  results.push({
    name: 'LibP2PDHT network start',
    value: Math.round(ours.start),
    unit: 'ms',
    baseline: { name: 'raw @libp2p/kad-dht network start', value: Math.round(raw.start) },
    ratio: Math.round((ours.start / raw.start) * 100) / 100,
    note: `${NODES} nodes joining through one node (waves of 10) until routing tables are full or 60 s passed`
  })
  results.push({ name: 'LibP2PDHT put acknowledgements (mean)', value: meanAcks, unit: 'peers' })
  results.push({
    name: 'LibP2PDHT failed operations',
    value: ours.putFailures + ours.getFailures,
    unit: 'count',
    baseline: { name: 'raw @libp2p/kad-dht failed operations', value: raw.putFailures + raw.getFailures },
    note: `puts ${ours.putFailures} vs ${raw.putFailures}, gets ${ours.getFailures} vs ${raw.getFailures}, of ${OPS} each (30 s limit); excluded from the percentiles`
  })

  const out = {
    package: '@chorus/dht',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    ...(quick ? { quick: true } : {}),
    results
  }
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(out, null, 2)}\n`)
  for (const r of results) {
    const b = r.baseline as { name: string; value: number } | undefined
    console.log(`${r.name}: ${r.value} ${r.unit}${b != null ? ` (${b.name}: ${b.value})` : ''}`)
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  }
)
