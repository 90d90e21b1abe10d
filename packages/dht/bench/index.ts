// Benchmark: put and get latency of LibP2PDHT beside raw @libp2p/kad-dht, same run, same machine.
// Both networks (N nodes each, one process, 127.0.0.1) are up at once and operations alternate
// between them, so load from anything else on the machine hits both alike.
//   node bench/index.ts            20 nodes, 100 puts and 100 gets per implementation
//   node bench/index.ts --quick    8 nodes, 15 of each (smoke run)
//   --nodes N, --ops N             override either
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
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
const VALUE_BYTES = 256

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

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

const round = (x: number): number => Math.round(x * 10) / 10

async function main(): Promise<void> {
  console.log(`dht bench: ${NODES} nodes per network, ${OPS} puts and gets each${quick ? ' (quick)' : ''}`)
  let t0 = performance.now()
  const ours = await startNetwork({ nodes: NODES, readyTimeout: 60_000 })
  const oursStart = performance.now() - t0
  t0 = performance.now()
  const raw = await startKadBaselineNetwork({ nodes: NODES, readyTimeout: 60_000 })
  const rawStart = performance.now() - t0
  console.log(`networks up: LibP2PDHT ${Math.round(oursStart)} ms, raw kad-dht ${Math.round(rawStart)} ms`)

  const lat = {
    oursPut: [] as number[],
    oursGet: [] as number[],
    rawPut: [] as number[],
    rawGet: [] as number[]
  }
  let acks = 0
  const failures = { oursPut: 0, rawPut: 0, oursGet: 0, rawGet: 0 }
  const failed = (what: keyof typeof failures, err: unknown) => {
    failures[what]++
    if (failures[what] <= 3) {
      const e = err as { name?: string; message?: string; cause?: { message?: string } }
      console.log(
        `  ${what} failed: ${e.name}: ${e.message}${e.cause != null ? ` (cause: ${e.cause.message})` : ''}`
      )
    }
  }
  try {
    for (let i = 0; i < OPS; i++) {
      const value = crypto.getRandomValues(new Uint8Array(VALUE_BYTES))
      const writer = pick(NODES)
      const reader = pick(NODES, writer)
      const oursKey = `/CHORUS/bench/ours-${i}`
      const rawKey = `/CHORUS/bench/raw-${i}`
      const oursFirst = i % 2 === 0
      const putOurs = async () => {
        try {
          lat.oursPut.push(
            await time(async () => {
              acks += (await ours.nodes[writer]!.putValue(oursKey, value)).acks.length
            })
          )
        } catch (err) {
          failed('oursPut', err)
        }
      }
      const putRaw = async () => {
        try {
          // same 30 s limit as LibP2PDHT's queryTimeout (kad-dht's own default is 180 s)
          lat.rawPut.push(
            await time(() => raw.put(writer, rawKey, value, { signal: AbortSignal.timeout(30_000) }))
          )
        } catch (err) {
          failed('rawPut', err)
        }
      }
      const getOurs = async () => {
        try {
          lat.oursGet.push(await time(() => ours.nodes[reader]!.getValue(oursKey)))
        } catch (err) {
          failed('oursGet', err)
        }
      }
      const getRaw = async () => {
        try {
          lat.rawGet.push(await time(() => raw.get(reader, rawKey, { signal: AbortSignal.timeout(30_000) })))
        } catch (err) {
          failed('rawGet', err)
        }
      }
      for (const step of oursFirst
        ? [putOurs, putRaw, getOurs, getRaw]
        : [putRaw, putOurs, getRaw, getOurs]) {
        await step()
      }
      const last = (l: number[]) => Math.round(l[l.length - 1] ?? Number.NaN)
      process.stdout.write(
        `  ${i + 1}/${OPS} put ${last(lat.oursPut)}/${last(lat.rawPut)} ms, get ${last(lat.oursGet)}/${last(lat.rawGet)} ms (ours/raw)\n`
      )
    }
  } finally {
    await ours.stop()
    await raw.stop()
  }
  for (const list of Object.values(lat)) list.sort((a, b) => a - b)

  const results: Array<Record<string, unknown>> = []
  const pair = (name: string, ours: number, rawName: string, rawValue: number, note?: string) => {
    results.push({
      name,
      value: round(ours),
      unit: 'ms',
      baseline: { name: rawName, value: round(rawValue) },
      ratio: Math.round((ours / rawValue) * 100) / 100,
      ...(note != null ? { note } : {})
    })
  }
  const n = `${NODES}-node loopback network, one process, ${VALUE_BYTES}-byte values`
  pair(
    'LibP2PDHT put p50',
    percentile(lat.oursPut, 50),
    'raw @libp2p/kad-dht put p50',
    percentile(lat.rawPut, 50),
    `${n}; LibP2PDHT counts real PUT_VALUE acks (mean ${round(acks / OPS)} per put)`
  )
  pair(
    'LibP2PDHT put p99',
    percentile(lat.oursPut, 99),
    'raw @libp2p/kad-dht put p99',
    percentile(lat.rawPut, 99),
    n
  )
  pair(
    'LibP2PDHT get p50',
    percentile(lat.oursGet, 50),
    'raw @libp2p/kad-dht get p50',
    percentile(lat.rawGet, 50),
    `${n}; reader is a different random node than the writer`
  )
  pair(
    'LibP2PDHT get p99',
    percentile(lat.oursGet, 99),
    'raw @libp2p/kad-dht get p99',
    percentile(lat.rawGet, 99),
    n
  )
  results.push({
    name: 'LibP2PDHT network start',
    value: Math.round(oursStart),
    unit: 'ms',
    baseline: { name: 'raw @libp2p/kad-dht network start', value: Math.round(rawStart) },
    ratio: Math.round((oursStart / rawStart) * 100) / 100,
    note: `${NODES} nodes joining through one bootstrap node at once, until routing tables are full (LibP2PDHT: bootstrap with self lookup)`
  })
  results.push({ name: 'LibP2PDHT put acknowledgements (mean)', value: round(acks / OPS), unit: 'peers' })
  results.push({
    name: 'LibP2PDHT failed operations',
    value: failures.oursPut + failures.oursGet,
    unit: 'count',
    baseline: { name: 'raw @libp2p/kad-dht failed operations', value: failures.rawPut + failures.rawGet },
    note: `puts ${failures.oursPut} vs ${failures.rawPut}, gets ${failures.oursGet} vs ${failures.rawGet}, of ${OPS} each; excluded from the percentiles`
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
    console.log(
      `${r.name}: ${r.value} ${r.unit}${b != null ? ` (${b.name}: ${b.value}, ratio ${r.ratio})` : ''}`
    )
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  }
)
