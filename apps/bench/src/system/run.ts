/**
 * The system benchmark: @chorus/storage's createEncryptedStorage on @chorus/dht's LibP2PDHT
 * (with storage's CHORUS record rules) on loopback TCP, beside raw @libp2p/kad-dht put/get on a
 * network of the same size started in the same run (@chorus/dht/testing). All nodes of a network
 * run in this one process. The packages are loaded at run time, so a missing or broken package
 * gives an "not available" result instead of stopping the harness.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Dht, NodeSigner, PeerMessaging } from '@chorus/dht'
import type { EncryptedStorage } from '@chorus/storage'
import { summarize } from '../stats.js'
import type { SystemResult, SystemSizeResult, Throughput } from './types.js'

export interface SystemBenchOptions {
  /** Network sizes. Default: [5, 10, 20]. */
  sizes?: number[]
  /** Sequential operations per latency figure. Default: 20. */
  ops?: number
  /** Cached reads of one address. Default: 2000. */
  cachedOps?: number
  /** Concurrency levels of the throughput runs. Default: [1, 8, 32]. */
  concurrency?: number[]
  /** Operations per throughput run: max(minThroughputOps, concurrency). Default: 16. */
  minThroughputOps?: number
  /**
   * Time budget of each phase (sequential stores, cold reads, raw puts+gets, each throughput run)
   * in ms: after it no new operation starts (at least 5 samples are always taken). Bounds the run
   * on a loaded machine; the sample counts are reported. Default: 60_000.
   */
  phaseMs?: number
  /** Time budget of each throughput run, in ms. Default: 30_000. */
  throughputMs?: number
  /** Content size in bytes. Default: 1024. */
  contentBytes?: number
  /** Skip the raw kad-dht baseline. Default: false. */
  noBaseline?: boolean
  log?: (line: string) => void
}

type ChorusNode = Dht & PeerMessaging & { signer: NodeSigner; peerId: string; getDHTSize(): number }

interface Modules {
  testing: typeof import('@chorus/dht/testing')
  storage: typeof import('@chorus/storage')
  crypto: typeof import('@chorus/crypto')
}

async function loadModules(): Promise<Modules | string> {
  const missing: string[] = []
  const load = async <T>(name: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f()
    } catch (err) {
      missing.push(`${name} (${(err as Error).message.split('\n')[0]})`)
      return undefined
    }
  }
  const testing = await load('@chorus/dht/testing', () => import('@chorus/dht/testing'))
  const storage = await load('@chorus/storage', () => import('@chorus/storage'))
  const crypto = await load('@chorus/crypto', () => import('@chorus/crypto'))
  if (
    testing == null ||
    storage == null ||
    crypto == null ||
    typeof storage.createEncryptedStorage !== 'function'
  ) {
    return `not available: ${missing.join('; ') || '@chorus/storage exports no createEncryptedStorage'}`
  }
  return { testing, storage, crypto }
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1000
}

function collectGarbage(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

function payload(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size)
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff
  return b
}

/**
 * Runs up to `total` operations with at most `concurrency` in flight, starting no new one after
 * `budgetMs`; returns the successful operations per second and which operations succeeded.
 */
async function throughput(
  total: number,
  concurrency: number,
  budgetMs: number,
  op: (i: number) => Promise<boolean>
): Promise<{ perSecond: number; ok: number[] }> {
  let next = 0
  const ok: number[] = []
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < total && performance.now() - started < budgetMs) {
      const i = next++
      if (await op(i)) ok.push(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  return { perSecond: ok.length / ((performance.now() - started) / 1000), ok }
}

/** Whether a sequential phase may take another sample: always the first `min`, then until the budget. */
const more = (i: number, max: number, started: number, budgetMs: number, min = 5): boolean =>
  i < max && (i < min || performance.now() - started < budgetMs)

export async function runSystemBenchmark(options: SystemBenchOptions = {}): Promise<SystemResult> {
  const mods = await loadModules()
  if (typeof mods === 'string') return { available: false, reason: mods }
  const log = options.log ?? (() => {})
  const sizes = options.sizes ?? [5, 10, 20]
  const ops = options.ops ?? 20
  const cachedOps = options.cachedOps ?? 2000
  const levels = options.concurrency ?? [1, 8, 32]
  const minThroughputOps = options.minThroughputOps ?? 16
  const contentBytes = options.contentBytes ?? 1024
  const phaseMs = options.phaseMs ?? 60_000
  const throughputMs = options.throughputMs ?? 30_000
  const results: SystemSizeResult[] = []
  const { testing, storage, crypto } = mods
  const roleKeys = new Map(
    Object.keys(crypto.getPredefinedRoles()).map((r) => [r, crypto.generateRoleKey(r)])
  )

  for (const n of sizes) {
    const errors: string[] = []
    const record = (err: unknown): void => {
      if (errors.length < 20) errors.push((err as Error).message ?? String(err))
    }
    // ---- baseline: raw kad-dht on its own network of the same size ----
    let rawPut: number[] = []
    let rawGet: number[] = []
    let rawPutCpu: number | undefined
    let rawGetCpu: number | undefined
    if (!options.noBaseline) {
      log(`  ${n} nodes: raw kad-dht baseline network`)
      const raw = await testing.startKadBaselineNetwork({ nodes: n, readyTimeout: 60_000 })
      try {
        let putCpu = 0
        let getCpu = 0
        const rawStarted = performance.now()
        let i = 0
        for (; more(i, ops, rawStarted, phaseMs); i++) {
          const key = `/CHORUS/bench-raw/${n}/${i}`
          let c = process.cpuUsage()
          let t = performance.now()
          try {
            await raw.put(i % n, key, payload(i, contentBytes))
            rawPut.push(performance.now() - t)
          } catch (err) {
            record(err)
          }
          putCpu += cpuMs(c)
          c = process.cpuUsage()
          t = performance.now()
          try {
            await raw.get((i + Math.floor(n / 2)) % n, key)
            rawGet.push(performance.now() - t)
          } catch (err) {
            record(err)
          }
          getCpu += cpuMs(c)
          if ((i + 1) % 10 === 0) log(`  ${n} nodes: raw put + get ${i + 1}/${ops}`)
        }
        rawPutCpu = putCpu / i
        rawGetCpu = getCpu / i
      } finally {
        await raw.stop()
      }
    }

    // ---- CHORUS: storage on LibP2PDHT ----
    log(`  ${n} nodes: LibP2PDHT network with the CHORUS record rules`)
    collectGarbage()
    const memBefore = process.memoryUsage()
    const dir = mkdtempSync(join(tmpdir(), 'chorus-system-bench-'))
    const net = await testing.startNetwork({
      nodes: n,
      records: storage.chorusRecordRules(),
      readyTimeout: 60_000
    })
    const opened: EncryptedStorage[] = []
    const storageOn = async (i: number, role: string): Promise<EncryptedStorage> => {
      const node = net.nodes[i % n] as unknown as ChorusNode
      const roles = crypto.createRoleRegistry()
      const keyring = crypto.createKeyring()
      for (const [r, k] of roleKeys) {
        if (r === role) keyring.addIdentity(k)
        else keyring.addRecipient(r, k.recipient)
      }
      const s = storage.createEncryptedStorage(
        {
          dht: node,
          crypto: crypto.createAgeCrypto({ roles, keyring }),
          roles,
          keyring,
          signer: node.signer
        },
        { dataDir: join(dir, `n${i}-${role}-${opened.length}`), nodeId: node.peerId }
      )
      await s.start()
      opened.push(s)
      return s
    }
    try {
      const writers = await Promise.all(
        Array.from({ length: Math.min(n, 4) }, (_, w) => storageOn(w, 'backend_developer'))
      )
      const readers = await Promise.all(
        Array.from({ length: Math.min(n, 4) }, (_, r) => storageOn(Math.floor(n / 2) + r, 'senior_architect'))
      )
      collectGarbage()
      const memAfter = process.memoryUsage()
      const rssBytesPerNode = Math.max(0, memAfter.rss - memBefore.rss) / n
      const heapBytesPerNode =
        Math.max(0, memAfter.heapUsed + memAfter.external - memBefore.heapUsed - memBefore.external) / n
      const address = (tag: string, i: number): string =>
        `ucxl://agent001:backend_developer@bench${n}:${tag}${i}/*^/decision`

      // sequential latencies
      const store: number[] = []
      const acks: number[] = []
      const stored: number[] = []
      let c = process.cpuUsage()
      let phase = performance.now()
      let attempts = 0
      for (let i = 0; more(i, ops, phase, phaseMs); i++, attempts++) {
        const t = performance.now()
        try {
          const r = await writers[0]!.storeUCXLContent(
            address('s', i),
            payload(i, contentBytes),
            'backend_developer',
            'decision'
          )
          store.push(performance.now() - t)
          acks.push(r.acks)
          stored.push(i)
        } catch (err) {
          record(err)
        }
        if ((i + 1) % 10 === 0) log(`  ${n} nodes: store ${i + 1}/${ops}`)
      }
      const storeCpu = cpuMs(c) / Math.max(1, attempts)
      // let the background halves of the stores finish before reading
      await new Promise((r) => setTimeout(r, 1_000))
      const cold: number[] = []
      c = process.cpuUsage()
      phase = performance.now()
      attempts = 0
      for (let k = 0; more(k, stored.length, phase, phaseMs); k++, attempts++) {
        const t = performance.now()
        try {
          await readers[0]!.retrieveUCXLContent(address('s', stored[k]!))
          cold.push(performance.now() - t)
        } catch (err) {
          record(err)
        }
      }
      const coldCpu = cpuMs(c) / Math.max(1, attempts)
      const cached: number[] = []
      const hot = address('s', 0)
      for (let i = 0; i < 50; i++) await readers[0]!.retrieveUCXLContent(hot).catch(record)
      c = process.cpuUsage()
      for (let i = 0; i < cachedOps; i++) {
        const t = performance.now()
        await readers[0]!.retrieveUCXLContent(hot)
        cached.push(performance.now() - t)
      }
      const cachedCpu = cpuMs(c) / cachedOps

      // throughput at each concurrency: stores spread over the writers, cold reads over the readers
      const tput: Throughput[] = []
      for (const level of levels) {
        const total = Math.max(minThroughputOps, level)
        const tag = `c${level}x`
        const stores = await throughput(total, level, throughputMs, (i) =>
          writers[i % writers.length]!.storeUCXLContent(
            address(tag, i),
            payload(i, contentBytes),
            'backend_developer',
            'decision'
          ).then(
            () => true,
            (err: unknown) => {
              record(err)
              return false
            }
          )
        )
        await new Promise((r) => setTimeout(r, 500))
        // cold reads of what this step stored, each address by a node that has not read it
        const reads = await throughput(stores.ok.length, level, throughputMs, (k) =>
          readers[k % readers.length]!.retrieveUCXLContent(address(tag, stores.ok[k]!)).then(
            () => true,
            (err: unknown) => {
              record(err)
              return false
            }
          )
        )
        const storePerSecond = stores.perSecond
        const retrievePerSecond = reads.perSecond
        tput.push({ concurrency: level, storePerSecond, retrievePerSecond })
        log(
          `  ${n} nodes, concurrency ${level}: ${storePerSecond.toFixed(1)} stores/s, ${retrievePerSecond.toFixed(1)} retrieves/s`
        )
      }
      results.push({
        nodes: n,
        store: summarize(store),
        retrieveCold: summarize(cold),
        retrieveCached: summarize(cached),
        ...(rawPut.length > 0 ? { rawPut: summarize(rawPut) } : {}),
        ...(rawGet.length > 0 ? { rawGet: summarize(rawGet) } : {}),
        throughput: tput,
        rssBytesPerNode,
        heapBytesPerNode,
        rssBytesTotal: memAfter.rss,
        cpuMsPerOp: {
          store: storeCpu,
          retrieveCold: coldCpu,
          retrieveCached: cachedCpu,
          ...(rawPutCpu != null ? { rawPut: rawPutCpu } : {}),
          ...(rawGetCpu != null ? { rawGet: rawGetCpu } : {})
        },
        acksPerStore: acks.length > 0 ? acks.reduce((a, b) => a + b, 0) / acks.length : undefined,
        errors
      })
      log(
        `  ${n} nodes: store p50 ${summarize(store).p50.toFixed(1)} ms, cold retrieve p50 ${summarize(cold).p50.toFixed(1)} ms, cached p50 ${summarize(cached).p50.toFixed(4)} ms`
      )
    } finally {
      await Promise.allSettled(opened.map((s) => s.stop()))
      await net.stop()
      rmSync(dir, { recursive: true, force: true })
      rawPut = []
      rawGet = []
    }
  }
  return {
    available: true,
    layout:
      'all nodes of a network run in this one process (LibP2PDHT nodes over TCP on 127.0.0.1, one libp2p node each)',
    contentBytes,
    sizes: results,
    notes: [
      "Cold retrieve: each address read once by a node that has not read it (storage's default retrieveConsistency, 'closest').",
      'Cached retrieve: repeated reads of one address on the same node.',
      'Throughput: successful operations per second with the given number in flight, max(16, concurrency) operations or the phase budget; stores spread over up to 4 writer nodes, cold retrieves of the addresses just stored over up to 4 reader nodes.',
      `Each latency phase stops starting operations after ${Math.round(phaseMs / 1000)} s (at least 5 samples) and each throughput run after ${Math.round(throughputMs / 1000)} s, so a loaded machine gives fewer samples rather than an endless run; the samples column says how many.`,
      'CPU per operation: process.cpuUsage (user + system) of the whole process (every node serving the request) divided by the operations of the sequential run.',
      'Memory per node: growth of process RSS, and of V8 heap + external memory (after a forced GC), from before the network started to after it and its storage instances started, divided by the nodes. RSS growth understates when the process already holds freed memory from the baseline network; the process RSS is given too.'
    ]
  }
}
