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
import type { DHT, NodeSigner, PeerMessaging } from '@chorus/dht'
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
  /** Time budget of each throughput run (and of the wait for its stores' background work), in ms. Default: 20_000. */
  throughputMs?: number
  /** Content size in bytes. Default: 1024. */
  contentBytes?: number
  /** Skip the raw kad-dht baseline. Default: false. */
  noBaseline?: boolean
  log?: (line: string) => void
}

type ChorusNode = DHT & PeerMessaging & { signer: NodeSigner; peerId: string; getDHTSize(): number }

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

/** Longest wait for a store's background work before the next operation starts anyway. */
const IDLE_LIMIT_MS = 30_000

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
  const throughputMs = options.throughputMs ?? 20_000
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
    // ---- CHORUS: storage on LibP2PDHT (started first, so its memory is measured alone) ----
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
    let raw: Awaited<ReturnType<typeof testing.startKadBaselineNetwork>> | undefined
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
      /** Resolves when every storage instance's background work (kad puts, provides, repairs) is done. */
      const idle = (): Promise<unknown> => Promise.all(opened.map((s) => s.whenIdle()))
      /** idle(), but gives up after `ms`: whether the background work finished in time. */
      const idleWithin = async (ms: number): Promise<boolean> => {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), ms)
        })
        try {
          return await Promise.race([idle().then(() => true), late])
        } finally {
          clearTimeout(timer)
        }
      }

      // ---- baseline: raw kad-dht on its own network of the same size, up at the same time ----
      if (!options.noBaseline) {
        log(`  ${n} nodes: raw kad-dht baseline network`)
        raw = await testing.startKadBaselineNetwork({ nodes: n, readyTimeout: 60_000 })
      }

      // Sequential latencies. Raw and CHORUS operations alternate (order swapped every round), so
      // whatever else loads the machine hits both alike, and every operation starts with the
      // previous one's background work finished: a store returns at write quorum while the rest of
      // its kad puts and its provide go on; that tail is timed separately (store until idle), so
      // neither figure is inflated by the previous store's leftovers.
      const rawPut: number[] = []
      const rawGet: number[] = []
      const store: number[] = []
      const storeIdle: number[] = []
      const acks: number[] = []
      const stored: number[] = []
      const rawStored: number[] = []
      let rawPutCpu = 0
      let rawPutAttempts = 0
      let storeCpu = 0
      let storeAttempts = 0
      let phase = performance.now()
      let i = 0
      for (; more(i, ops, phase, phaseMs); i++) {
        const steps: Array<() => Promise<void>> = [
          async () => {
            if (raw == null) return
            const key = `/CHORUS/bench-raw/${n}/${i}`
            const c = process.cpuUsage()
            const t = performance.now()
            rawPutAttempts++
            try {
              await raw.put(i % n, key, payload(i, contentBytes))
              rawPut.push(performance.now() - t)
              rawStored.push(i)
            } catch (err) {
              record(err)
            }
            rawPutCpu += cpuMs(c)
          },
          async () => {
            const c = process.cpuUsage()
            const t = performance.now()
            storeAttempts++
            try {
              const r = await writers[0]!.storeUCXLContent(
                address('s', i),
                payload(i, contentBytes),
                'backend_developer',
                'text/plain'
              )
              store.push(performance.now() - t)
              acks.push(r.acks)
              stored.push(i)
              if (await idleWithin(IDLE_LIMIT_MS)) storeIdle.push(performance.now() - t)
              else record(new Error(`store ${i}: background work not done within ${IDLE_LIMIT_MS} ms`))
            } catch (err) {
              record(err)
              await idleWithin(IDLE_LIMIT_MS)
            }
            storeCpu += cpuMs(c)
          }
        ]
        if (i % 2 === 1) steps.reverse()
        for (const step of steps) await step()
        if ((i + 1) % 5 === 0) log(`  ${n} nodes: raw put + store ${i + 1}/${ops}`)
      }
      const rawPutCpuPerOp = rawPutAttempts > 0 ? rawPutCpu / rawPutAttempts : undefined
      const storeCpuPerOp = storeCpu / Math.max(1, storeAttempts)
      // cold reads: each address read once by a node that has not read it, alternating with raw gets
      const cold: number[] = []
      let rawGetCpu = 0
      let rawGetAttempts = 0
      let coldCpu = 0
      let coldAttempts = 0
      phase = performance.now()
      const reads = Math.max(stored.length, rawStored.length)
      let k = 0
      for (; more(k, reads, phase, phaseMs); k++) {
        const steps: Array<() => Promise<void>> = [
          async () => {
            const j = rawStored[k]
            if (raw == null || j == null) return
            const c = process.cpuUsage()
            const t = performance.now()
            rawGetAttempts++
            try {
              await raw.get((j + Math.floor(n / 2)) % n, `/CHORUS/bench-raw/${n}/${j}`)
              rawGet.push(performance.now() - t)
            } catch (err) {
              record(err)
            }
            rawGetCpu += cpuMs(c)
          },
          async () => {
            const j = stored[k]
            if (j == null) return
            const c = process.cpuUsage()
            const t = performance.now()
            coldAttempts++
            try {
              await readers[0]!.retrieveUCXLContent(address('s', j))
              cold.push(performance.now() - t)
            } catch (err) {
              record(err)
            }
            coldCpu += cpuMs(c)
            // a read may start a background refresh or read repair: not the next operation's cost
            await idleWithin(IDLE_LIMIT_MS)
          }
        ]
        if (k % 2 === 1) steps.reverse()
        for (const step of steps) await step()
      }
      const rawGetCpuPerOp = rawGetAttempts > 0 ? rawGetCpu / rawGetAttempts : undefined
      const coldCpuPerOp = coldCpu / Math.max(1, coldAttempts)
      if (raw != null) {
        await raw.stop()
        raw = undefined
      }

      const cached: number[] = []
      const hot = address('s', stored[0] ?? 0)
      for (let w = 0; w < 50; w++) await readers[0]!.retrieveUCXLContent(hot).catch(record)
      let c = process.cpuUsage()
      for (let w = 0; w < cachedOps; w++) {
        const t = performance.now()
        await readers[0]!.retrieveUCXLContent(hot)
        cached.push(performance.now() - t)
      }
      const cachedCpu = cpuMs(c) / cachedOps

      // throughput at each concurrency: stores spread over the writers, cold reads over the readers
      const tput: Throughput[] = []
      for (const level of levels) {
        await idleWithin(throughputMs)
        const total = Math.max(minThroughputOps, level)
        const tag = `c${level}x`
        c = process.cpuUsage()
        const t0 = performance.now()
        const stores = await throughput(total, level, throughputMs, (j) =>
          writers[j % writers.length]!.storeUCXLContent(
            address(tag, j),
            payload(j, contentBytes),
            'backend_developer',
            'text/plain'
          ).then(
            () => true,
            (err: unknown) => {
              record(err)
              return false
            }
          )
        )
        // the stores' background halves, so the rate below counts the whole work (bounded: a
        // backlog not drained within the budget gives no figure rather than an endless wait)
        const drained = await idleWithin(throughputMs)
        const storeDrainedPerSecond = drained
          ? stores.ok.length / ((performance.now() - t0) / 1000)
          : undefined
        // cold reads of what this step stored, each address by a node that has not read it
        const got = await throughput(stores.ok.length, level, throughputMs, (j) =>
          readers[j % readers.length]!.retrieveUCXLContent(address(tag, stores.ok[j]!)).then(
            () => true,
            (err: unknown) => {
              record(err)
              return false
            }
          )
        )
        const storePerSecond = stores.perSecond
        const retrievePerSecond = got.perSecond
        tput.push({
          concurrency: level,
          storePerSecond,
          ...(storeDrainedPerSecond != null ? { storeDrainedPerSecond } : {}),
          retrievePerSecond
        })
        log(
          `  ${n} nodes, concurrency ${level}: ${storePerSecond.toFixed(1)} stores/s (${storeDrainedPerSecond?.toFixed(1) ?? `background not done within ${Math.round(throughputMs / 1000)} s`} with background), ${retrievePerSecond.toFixed(1)} retrieves/s`
        )
      }
      results.push({
        nodes: n,
        store: summarize(store),
        storeUntilIdle: summarize(storeIdle),
        retrieveCold: summarize(cold),
        retrieveCached: summarize(cached),
        ...(rawPut.length > 0 ? { rawPut: summarize(rawPut) } : {}),
        ...(rawGet.length > 0 ? { rawGet: summarize(rawGet) } : {}),
        throughput: tput,
        rssBytesPerNode,
        heapBytesPerNode,
        rssBytesTotal: memAfter.rss,
        cpuMsPerOp: {
          store: storeCpuPerOp,
          retrieveCold: coldCpuPerOp,
          retrieveCached: cachedCpu,
          ...(rawPutCpuPerOp != null ? { rawPut: rawPutCpuPerOp } : {}),
          ...(rawGetCpuPerOp != null ? { rawGet: rawGetCpuPerOp } : {})
        },
        acksPerStore: acks.length > 0 ? acks.reduce((a, b) => a + b, 0) / acks.length : undefined,
        errors
      })
      log(
        `  ${n} nodes: store p50 ${summarize(store).p50.toFixed(1)} ms (until idle ${summarize(storeIdle).p50.toFixed(1)} ms, raw put ${summarize(rawPut).p50.toFixed(1)} ms), cold retrieve p50 ${summarize(cold).p50.toFixed(1)} ms (raw get ${summarize(rawGet).p50.toFixed(1)} ms), cached p50 ${summarize(cached).p50.toFixed(4)} ms`
      )
    } finally {
      await Promise.allSettled(opened.map((s) => s.stop()))
      await Promise.allSettled([net.stop(), raw?.stop()])
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return {
    available: true,
    layout:
      'no node is a separate process: at each size both networks (the N CHORUS nodes and the N raw kad-dht nodes of the baseline) run in this one Node.js process, each node a full libp2p node with its own TCP listener on 127.0.0.1, so they share its one event loop and heap',
    contentBytes,
    sizes: results,
    notes: [
      "Cold retrieve: each address read once by a node that has not read it (storage's default retrieveConsistency, 'closest').",
      'Cached retrieve: repeated reads of one address on the same node.',
      `Throughput: successful operations per second with the given number in flight, max(${minThroughputOps}, concurrency) operations or the phase budget; stores spread over up to 4 writer nodes, cold retrieves of the addresses just stored over up to 4 reader nodes.`,
      `Each latency phase stops starting operations after ${Math.round(phaseMs / 1000)} s (at least 5 samples) and each throughput run after ${Math.round(throughputMs / 1000)} s, so a loaded machine gives fewer samples rather than an endless run; the samples column says how many.`,
      'Sequential latencies: raw kad-dht and CHORUS operations alternate one by one (order swapped every round) on the two networks, both up at the same time, so load from elsewhere hits both alike; the storage package bench measures the same way. Every operation starts with the background work of the previous one finished (storage whenIdle()).',
      'Store returns at write quorum (3 acknowledgements of the direct push), while the remaining kad-dht puts of the version and head records and the provide of the head go on in the background; "store until idle" times the same store until that background work has finished too (the whole cost, beside the raw put which has no background part). Store CPU per op includes the background work.',
      `Throughput stores/s counts until the last store returned; "with background" counts until their background work finished (the sustainable rate; "-" when it had not finished ${Math.round(throughputMs / 1000)} s after the last store). Operations of a throughput run overlap, so they compete with each other and with that background work.`,
      'CPU per operation: process.cpuUsage (user + system) of the whole process (every node serving the request) divided by the operations of the sequential run.',
      'Memory per node: growth of process RSS, and of V8 heap + external memory (after a forced GC), from before the CHORUS network started to after it and its storage instances started (the baseline network starts after this measure), divided by the nodes. RSS growth understates when the process already holds freed memory from an earlier size; the process RSS is given too.'
    ]
  }
}
