// Benchmark: what the hybrid costs over using LibP2PDHT directly, same run, same node, and how
// fast it journals and replays. One process, 127.0.0.1; operations alternate between the direct
// and the hybrid path so load from anything else on the machine hits both alike.
//   node bench/index.ts            5 nodes, 100 puts and gets per path, 300 journaled writes
//   node bench/index.ts --quick    3 nodes, 15 of each, 50 journaled writes (smoke run, ~5 s)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLocalDHT } from '@chorus/dht'
import { permissiveRecords, startNetwork } from '@chorus/dht/testing'
import { createHybridDHT } from '../dist/index.js'

const quick = process.argv.includes('--quick')
const NODES = quick ? 3 : 5
const OPS = quick ? 15 : 100
const JOURNALED = quick ? 50 : 300
const VALUE_BYTES = 256

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

const round = (x: number): number => Math.round(x * 100) / 100
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)

async function main(): Promise<void> {
  console.log(
    `hybrid bench: ${NODES} nodes, ${OPS} puts and gets per path, ${JOURNALED} journaled${quick ? ' (quick)' : ''}`
  )
  const dir = mkdtempSync(join(tmpdir(), 'hybrid-bench-'))
  const net = await startNetwork({ nodes: NODES, readyTimeout: 60_000 })
  const primary = net.nodes[0]!
  const reader = net.nodes[1]!
  const local = createLocalDHT({
    dataDir: join(dir, 'local'),
    records: permissiveRecords,
    peerId: primary.peerId
  })
  const hybrid = createHybridDHT(
    { primary, fallback: local },
    { dataDir: join(dir, 'journal'), probeInterval: 0 }
  )
  const lat = {
    directPut: [] as number[],
    hybridPut: [] as number[],
    directGet: [] as number[],
    hybridGet: [] as number[]
  }
  const journaledPut: number[] = []
  let replayMs = 0
  try {
    for (let i = 0; i < OPS; i++) {
      const value = crypto.getRandomValues(new Uint8Array(VALUE_BYTES))
      lat.directPut.push(await time(() => primary.putValue(`/CHORUS/bench/direct-${i}`, value)))
      lat.hybridPut.push(await time(() => hybrid.putValue(`/CHORUS/bench/hybrid-${i}`, value)))
      lat.directGet.push(await time(() => primary.getValue(`/CHORUS/bench/direct-${i}`)))
      lat.hybridGet.push(await time(() => hybrid.getValue(`/CHORUS/bench/hybrid-${i}`)))
    }
    // Fail-over path: pinned to the local backend, every put is stored locally and journaled.
    hybrid.switchBackend('mock')
    for (let i = 0; i < JOURNALED; i++) {
      const value = crypto.getRandomValues(new Uint8Array(VALUE_BYTES))
      journaledPut.push(await time(() => hybrid.putValue(`/CHORUS/bench/journaled-${i}`, value)))
    }
    const t0 = performance.now()
    hybrid.switchBackend('auto')
    const result = await hybrid.replayJournal()
    replayMs = performance.now() - t0
    if (result.pending !== 0 || result.replayed !== JOURNALED) {
      throw new Error(`replay incomplete: ${JSON.stringify(result)}`)
    }
    await reader.getValue(`/CHORUS/bench/journaled-${JOURNALED - 1}`)
  } finally {
    await hybrid.close()
    await local.close()
    await net.stop()
    rmSync(dir, { recursive: true, force: true })
  }

  const s = Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, sorted(v)])) as Record<
    keyof typeof lat,
    number[]
  >
  const j = sorted(journaledPut)
  const results = [
    {
      name: 'hybrid put p50',
      value: round(percentile(s.hybridPut, 50)),
      unit: 'ms',
      baseline: { name: 'LibP2PDHT put p50 (same node)', value: round(percentile(s.directPut, 50)) }
    },
    {
      name: 'hybrid put p99',
      value: round(percentile(s.hybridPut, 99)),
      unit: 'ms',
      baseline: { name: 'LibP2PDHT put p99 (same node)', value: round(percentile(s.directPut, 99)) }
    },
    {
      name: 'hybrid get p50',
      value: round(percentile(s.hybridGet, 50)),
      unit: 'ms',
      baseline: { name: 'LibP2PDHT get p50 (same node)', value: round(percentile(s.directGet, 50)) }
    },
    {
      name: 'hybrid get p99',
      value: round(percentile(s.hybridGet, 99)),
      unit: 'ms',
      baseline: { name: 'LibP2PDHT get p99 (same node)', value: round(percentile(s.directGet, 99)) }
    },
    {
      name: 'journaled put p50 (failed over)',
      value: round(percentile(j, 50)),
      unit: 'ms',
      note: 'local SQLite write + journal append'
    },
    { name: 'journaled put p99 (failed over)', value: round(percentile(j, 99)), unit: 'ms' },
    {
      name: 'journal replay throughput',
      value: round((JOURNALED / replayMs) * 1000),
      unit: 'writes/s',
      note: `${JOURNALED} writes to ${NODES - 1} peers, replayConcurrency 8`
    }
  ].map((r) => ('baseline' in r && r.baseline ? { ...r, ratio: round(r.value / r.baseline.value) } : r))
  for (const r of results) {
    const base =
      'baseline' in r && r.baseline ? `  (baseline ${r.baseline.value} ${r.unit}, ratio ${r.ratio})` : ''
    console.log(`${r.name}: ${r.value} ${r.unit}${base}`)
  }
  const out = {
    package: '@chorus/hybrid',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    quick,
    layout: `no node is a separate process: the ${NODES}-node LibP2PDHT network runs in this one Node.js process (127.0.0.1 TCP); the hybrid and the direct path use the same node`,
    results
  }
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench-results', 'latest.json')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`)
  console.log(`written ${file}`)
}

await main()
