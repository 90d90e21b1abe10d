// Benchmark: put and get latency of LibP2PDHT beside raw @libp2p/kad-dht, same run, same machine.
// Both N-node networks (127.0.0.1, this process) are up together and every operation alternates
// between them (order swapped each round), so whatever else loads the machine hits both alike.
// A few unmeasured rounds warm up; puts go to a random node, gets to another random node.
//   node bench/index.ts            20 nodes, 100 puts and 100 gets per implementation
//   node bench/index.ts --quick    6 nodes, 8 of each, no new round after 5 s (smoke run, ~10 s)
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
const NODES = flag('--nodes') ?? (quick ? 6 : 20)
const OPS = flag('--ops') ?? (quick ? 8 : 100)
const WARMUP = quick ? 1 : 3
/** A quick run starts no timed round after this (at least 3 are always taken). */
const BUDGET_MS = quick ? 5_000 : Number.POSITIVE_INFINITY
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

async function measure(targets: Array<{ label: string; target: Target; phase: Phase }>): Promise<void> {
  const loads: number[] = []
  const started = performance.now()
  for (let i = -WARMUP; i < OPS && (i < 3 || performance.now() - started < BUDGET_MS); i++) {
    const writer = pick(NODES)
    const reader = pick(NODES, writer)
    const order = i % 2 === 0 ? targets : [...targets].reverse()
    for (const step of ['put', 'get'] as const) {
      for (const { label, target, phase } of order) {
        const key = `/CHORUS/bench/${label}-${i}`
        const t0 = performance.now()
        try {
          if (step === 'put') {
            const acks = await target.put(writer, key, crypto.getRandomValues(new Uint8Array(VALUE_BYTES)))
            if (i >= 0) {
              phase.put.push(performance.now() - t0)
              phase.acks += acks
            }
          } else {
            await target.get(reader, key)
            if (i >= 0) phase.get.push(performance.now() - t0)
          }
        } catch (err) {
          if (i < 0) continue
          const n = step === 'put' ? ++phase.putFailures : ++phase.getFailures
          if (n <= 3) console.log(`  ${label} ${step} failed: ${describe(err)}`)
        }
      }
    }
    loads.push(loadavg()[0] ?? 0)
    if (i >= 0 && (i + 1) % 10 === 0)
      console.log(`  ${i + 1}/${OPS} (load average ${loadavg()[0]?.toFixed(1)})`)
  }
  for (const { phase } of targets) {
    phase.load = loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length)
    phase.put.sort((a, b) => a - b)
    phase.get.sort((a, b) => a - b)
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { message?: string } }
  return `${e.name}: ${e.message}${e.cause?.message != null ? ` (cause: ${e.cause.message})` : ''}`
}

const newPhase = (start: number): Phase => ({
  start,
  put: [],
  get: [],
  putFailures: 0,
  getFailures: 0,
  acks: 0,
  load: 0
})

async function main(): Promise<void> {
  console.log(`dht bench: ${NODES} nodes, ${OPS} puts and gets per implementation${quick ? ' (quick)' : ''}`)
  let t0 = performance.now()
  // discovery off: the baseline runs no background discovery either
  const net = await startNetwork({ nodes: NODES, readyTimeout: 60_000, init: { discoveryInterval: 0 } })
  const ours = newPhase(performance.now() - t0)
  console.log(`LibP2PDHT network up in ${Math.round(ours.start)} ms`)
  t0 = performance.now()
  const baseline = await startKadBaselineNetwork({ nodes: NODES, readyTimeout: 60_000 }).catch(
    async (err) => {
      await net.stop()
      throw err
    }
  )
  const raw = newPhase(performance.now() - t0)
  console.log(`raw kad-dht network up in ${Math.round(raw.start)} ms`)
  try {
    await measure([
      {
        label: 'LibP2PDHT',
        phase: ours,
        target: {
          put: async (n, key, value) => (await net.nodes[n]!.putValue(key, value)).acks.length,
          get: (n, key) => net.nodes[n]!.getValue(key)
        }
      },
      {
        label: 'raw',
        phase: raw,
        target: {
          // the same 30 s limit as LibP2PDHT's queryTimeout (kad-dht's own default is 180 s)
          put: async (n, key, value) => {
            await baseline.put(n, key, value, { signal: AbortSignal.timeout(OP_TIMEOUT) })
            return Number.NaN
          },
          get: (n, key) => baseline.get(n, key, { signal: AbortSignal.timeout(OP_TIMEOUT) })
        }
      }
    ])
  } finally {
    await net.stop()
    await baseline.stop()
  }

  const setting = `${NODES}-node loopback networks (both up, operations alternating) in one process, ${VALUE_BYTES}-byte values; mean load average ${ours.load.toFixed(1)} on ${cpus().length} cores`
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
    note: `${NODES} nodes joining through one node (waves of 10) until routing tables are full (half full after 20 s), at most 60 s`
  })
  results.push({ name: 'LibP2PDHT put acknowledgements (mean)', value: meanAcks, unit: 'peers' })
  results.push({
    name: 'LibP2PDHT failed operations',
    value: ours.putFailures + ours.getFailures,
    unit: 'count',
    baseline: { name: 'raw @libp2p/kad-dht failed operations', value: raw.putFailures + raw.getFailures },
    note: `puts ${ours.putFailures} vs ${raw.putFailures}, gets ${ours.getFailures} vs ${raw.getFailures}, of ${ours.put.length + ours.putFailures} each (30 s limit); excluded from the percentiles`
  })

  const out = {
    package: '@chorus/dht',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    ...(quick ? { quick: true } : {}),
    layout: `no node is a separate process: both ${NODES}-node networks (LibP2PDHT and raw kad-dht) run in this one Node.js process, each node its own libp2p node on 127.0.0.1 TCP`,
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
