/**
 * Benchmark: EncryptedStorage on a loopback network of real LibP2PDHT nodes, beside raw
 * @libp2p/kad-dht put/get on a network of the same size in the same run.
 *   node bench/index.ts           20 nodes, 40 operations per figure
 *   node bench/index.ts --quick   10 nodes, 8 operations (smoke run)
 * Writes bench-results/latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  getPredefinedRoles
} from '@chorus/crypto'
import { startKadBaselineNetwork, startNetwork } from '@chorus/dht/testing'
import { chorusRecordRules, createEncryptedStorage } from '../dist/index.js'

const quick = process.argv.includes('--quick')
const NODES = quick ? 10 : 20
const OPS = quick ? 8 : 30
const CACHED_OPS = quick ? 2000 : 20000
const SIZE = 1024

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN
}
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d
const payload = (i: number): Uint8Array => {
  const b = new Uint8Array(SIZE)
  for (let k = 0; k < SIZE; k++) b[k] = (i * 31 + k) & 0xff
  return b
}
const log = (...a: unknown[]): void => console.error('[bench]', ...a)

// ---- raw kad-dht baseline --------------------------------------------------------------
log(`raw kad-dht baseline: ${NODES} nodes`)
const raw = await startKadBaselineNetwork({ nodes: NODES })
// both networks get the same settling time after start (bootstrap lookups, peer announcements)
const SETTLE_MS = quick ? 3_000 : 10_000
await new Promise((r) => setTimeout(r, SETTLE_MS))
const rawPut: number[] = []
const rawGet: number[] = []
try {
  for (let i = 0; i < OPS; i++) {
    const key = `/CHORUS/bench/${i}`
    const writer = i % NODES
    const reader = (i + NODES / 2) % NODES
    let t = performance.now()
    await raw.put(writer, key, payload(i))
    rawPut.push(performance.now() - t)
    t = performance.now()
    await raw.get(reader, key)
    rawGet.push(performance.now() - t)
  }
} finally {
  await raw.stop()
}
log('raw put p50', round(p50(rawPut)), 'get p50', round(p50(rawGet)))

// ---- EncryptedStorage ------------------------------------------------------------------
log(`EncryptedStorage: ${NODES} LibP2PDHT nodes with the CHORUS record rules`)
const dir = mkdtempSync(join(tmpdir(), 'chorus-storage-bench-'))
const net = await startNetwork({ nodes: NODES, records: chorusRecordRules(), readyTimeout: 60_000 })
await new Promise((r) => setTimeout(r, SETTLE_MS))
const keys = new Map(Object.keys(getPredefinedRoles()).map((r) => [r, generateRoleKey(r)]))
const storageOn = async (i: number, role: string, init: Record<string, unknown> = {}) => {
  const node = net.nodes[i]!
  const roles = createRoleRegistry()
  const keyring = createKeyring()
  for (const [r, k] of keys) {
    if (r === role) keyring.addIdentity(k)
    else keyring.addRecipient(r, k.recipient)
  }
  const s = createEncryptedStorage(
    { dht: node, crypto: createAgeCrypto({ roles, keyring }), roles, keyring, signer: node.signer },
    { dataDir: join(dir, `n${i}-${role}`), nodeId: node.peerId, ...init }
  )
  await s.start()
  return s
}
const store: number[] = []
const acks: number[] = []
const failures: string[] = []
const storeFailed = new Set<number>()
const coldNetwork: number[] = []
const coldFull: number[] = []
const coldLocalFirst: number[] = []
const coldVersion: number[] = []
const cached: number[] = []
try {
  const writer = await storageOn(0, 'backend_developer')
  const readerNet = await storageOn(Math.floor(NODES / 2), 'senior_architect')
  const readerLocal = await storageOn(Math.floor(NODES / 2) + 1, 'devops_engineer', {
    retrieveConsistency: 'local-first'
  })
  const readerVersion = await storageOn(NODES - 1, 'senior_architect')
  // every node of a CHORUS network runs the storage (the agent does): the rest as QA engineers
  const busy = new Set([
    0,
    Math.floor(NODES / 2) - 1,
    Math.floor(NODES / 2),
    Math.floor(NODES / 2) + 1,
    NODES - 1
  ])
  const others = await Promise.all(
    Array.from({ length: NODES }, (_, i) => i)
      .filter((i) => !busy.has(i))
      .map((i) => storageOn(i, 'qa_engineer'))
  )
  const readerFull = await storageOn(Math.floor(NODES / 2) - 1, 'senior_architect', {
    retrieveConsistency: 'network'
  })
  const address = (i: number): string => `ucxl://agent001:backend_developer@bench:t${i}/*^/decision`
  for (let i = 0; i < OPS; i++) {
    const t = performance.now()
    try {
      const r = await writer.storeUCXLContent(address(i), payload(i), 'backend_developer', 'decision')
      store.push(performance.now() - t)
      acks.push(r.acks)
    } catch (err) {
      // counted and reported, not hidden: a loaded machine can miss the quorum within the timeout
      failures.push(`store ${i}: ${(err as Error).name} ${(err as { code?: string }).code ?? ''}`)
      storeFailed.add(i)
    }
    // like the raw baseline, every operation starts on an idle network: let the background half
    // of this store (the kad-dht puts) finish before the next one (not timed)
    await writer.whenIdle()
  }
  log('store p50', round(p50(store)))
  // let the background halves of the puts finish before reading
  await new Promise((r) => setTimeout(r, 2_000))
  const timed = async (into: number[], what: string, f: () => Promise<unknown>): Promise<void> => {
    const t = performance.now()
    try {
      await f()
      into.push(performance.now() - t)
    } catch (err) {
      failures.push(`${what}: ${(err as Error).name} ${(err as { code?: string }).code ?? ''}`)
    }
  }
  for (let i = 0; i < OPS; i++) {
    if (storeFailed.has(i)) continue
    await timed(coldNetwork, `closest ${i}`, () => readerNet.retrieveUCXLContent(address(i)))
    await readerNet.whenIdle()
    await timed(coldFull, `network ${i}`, () => readerFull.retrieveUCXLContent(address(i)))
    await readerFull.whenIdle()
    await timed(coldLocalFirst, `local-first ${i}`, () => readerLocal.retrieveUCXLContent(address(i)))
    await readerLocal.whenIdle()
    await timed(coldVersion, `version ${i}`, () =>
      readerVersion.retrieveUCXLContent(address(i).replace('*^', '*~1'))
    )
    await readerVersion.whenIdle()
  }
  log(
    'cold retrieve p50 closest',
    round(p50(coldNetwork)),
    'network',
    round(p50(coldFull)),
    'local-first',
    round(p50(coldLocalFirst)),
    '*~1',
    round(p50(coldVersion))
  )
  const hot = address([...Array(OPS).keys()].find((i) => !storeFailed.has(i)) ?? 0)
  for (let i = 0; i < 200; i++) await readerNet.retrieveUCXLContent(hot)
  for (let i = 0; i < CACHED_OPS; i++) {
    const t = performance.now()
    await readerNet.retrieveUCXLContent(hot)
    cached.push(performance.now() - t)
  }
  log('cached retrieve p50', round(p50(cached), 4))
  await Promise.all(
    [writer, readerNet, readerFull, readerLocal, readerVersion, ...others].map((s) => s.stop())
  )
} finally {
  await net.stop()
  rmSync(dir, { recursive: true, force: true })
}

const rawPutP50 = p50(rawPut)
const rawGetP50 = p50(rawGet)
const entry = (
  name: string,
  value: number,
  unit: string,
  baseline?: { name: string; value: number },
  note?: string
) => ({
  name,
  value: round(value, 4),
  unit,
  ...(baseline !== undefined
    ? {
        baseline: { name: baseline.name, value: round(baseline.value, 4) },
        ratio: round(value / baseline.value, 3)
      }
    : {}),
  ...(note !== undefined ? { note } : {})
})
const results = [
  entry(
    'raw kad-dht put p50',
    rawPutP50,
    'ms',
    undefined,
    `${NODES} nodes, ${SIZE} B values, contentRouting.put`
  ),
  entry(
    'raw kad-dht get p50',
    rawGetP50,
    'ms',
    undefined,
    `${NODES} nodes, contentRouting.get from another node`
  ),
  entry(
    'store p50',
    p50(store),
    'ms',
    { name: 'raw kad-dht put p50', value: rawPutP50 },
    `encrypt + sign + direct push of version and head to the closest connected peers, returns at write quorum 3 (median acks ${p50(acks)}); kad-dht puts finish in the background (awaited, untimed, between stores); target ratio <= 0.333`
  ),
  entry(
    'cold retrieve p50 (*^, closest: default)',
    p50(coldNetwork),
    'ms',
    { name: 'raw kad-dht get p50', value: rawGetP50 },
    "default consistency 'closest': own store + the 3 closest connected peers over the direct protocol, verify, decrypt; target ratio <= 0.2"
  ),
  entry(
    'cold retrieve p50 (*^, network)',
    p50(coldFull),
    'ms',
    { name: 'raw kad-dht get p50', value: rawGetP50 },
    "consistency 'network': every peer on the kad query path answers (getValues), verify, decrypt"
  ),
  entry(
    'cold retrieve p50 (*^, local-first)',
    p50(coldLocalFirst),
    'ms',
    { name: 'raw kad-dht get p50', value: rawGetP50 },
    "retrieveConsistency 'local-first': the node's own replica, refreshed in the background; target ratio <= 0.2"
  ),
  entry(
    'cold retrieve p50 (*~1, immutable version)',
    p50(coldVersion),
    'ms',
    { name: 'raw kad-dht get p50', value: rawGetP50 },
    'fixed versions are immutable: own replica first, else the network'
  ),
  entry(
    'cached retrieve p50',
    p50(cached),
    'ms',
    undefined,
    `${CACHED_OPS} hits on one address; target < 0.1 ms`
  )
]
mkdirSync(new URL('../bench-results/', import.meta.url), { recursive: true })
const out = {
  package: '@chorus/storage',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  ...(quick ? { quick: true } : {}),
  results,
  failures
}
writeFileSync(new URL('../bench-results/latest.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`)
console.log(JSON.stringify(out, null, 2))
