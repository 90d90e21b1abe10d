/**
 * One churn-bench node in its own OS process: a real LibP2PDHT (TCP on 127.0.0.1, ephemeral port)
 * with a ReplicationManager, both on the data directory given in argv, driven by the controller
 * (bench/index.ts) over the fork IPC channel. Exits when the controller goes away.
 *
 *   node bench/node.ts <dataDir> <json ReplicationInit> <queryTimeoutMs> <requestTimeoutMs>
 *
 * Requests:  { id, op, ... }  ->  replies { id, ok: true, result } | { id, ok: false, error }
 *   start { bootstrap: string[] }            -> { peerId, multiaddrs }
 *   store { records: [{ key, value, priority, managed }] } (localOnly put, then addContent if managed)
 *   pins  { prefix }                          -> keys pinned here that start with prefix
 *   metrics                                   -> ReplicationMetrics (dates dropped)
 *   get   { keys: string[], concurrency }     -> values found by network GETs (missing: null)
 *   stop                                      -> stops manager and DHT, then the process exits
 */
import { join } from 'node:path'
import { createLibP2PDHT, type LibP2PDHT } from '@chorus/dht'
import { createReplicationManager, type ReplicationManager } from '../dist/index.js'
import { selectTestRecord, successionTestRecord, testRecords, validateTestRecord } from './cluster.ts'

const [dir, initJson, queryTimeout, requestTimeout] = process.argv.slice(2)
if (dir == null || initJson == null || process.send == null) {
  console.error('usage: node bench/node.ts <dataDir> <replicationInitJson> <queryMs> <requestMs> (forked)')
  process.exit(2)
}
const send = process.send.bind(process)

/** BENCH_LOG=debug|info prints the manager's logs of this node to stderr. */
const level = process.env.BENCH_LOG
const print =
  (lvl: string) =>
  (obj: object, msg: string): void => {
    console.error(`[node ${process.pid}] ${lvl} ${msg} ${JSON.stringify(obj)}`)
  }
const noop = (): void => {}
const logger = {
  debug: level === 'debug' ? print('debug') : noop,
  info: level === 'debug' || level === 'info' ? print('info') : noop,
  warn: level != null ? print('warn') : noop,
  error: print('error')
}

let dht: LibP2PDHT | undefined
let manager: ReplicationManager | undefined

interface Req {
  id: number
  op: string
  bootstrap?: string[]
  records?: Array<{ key: string; value: Uint8Array; priority: number; managed: boolean }>
  prefix?: string
  keys?: string[]
  concurrency?: number
}

async function handle(req: Req): Promise<unknown> {
  switch (req.op) {
    case 'start': {
      const bootstrap = req.bootstrap ?? []
      const t = [Date.now()]
      dht = await createLibP2PDHT({
        dataDir: join(dir!, 'dht'),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        mode: 'server',
        autoBootstrap: false,
        discoveryInterval: 0,
        records: testRecords,
        bootstrapPeers: bootstrap,
        queryTimeout: Number(queryTimeout ?? 10_000),
        requestTimeout: Number(requestTimeout ?? 5_000)
      })
      t.push(Date.now())
      if (bootstrap.length > 0) await dht.bootstrap()
      t.push(Date.now())
      manager = createReplicationManager(
        {
          dht,
          messaging: dht,
          validate: validateTestRecord,
          select: selectTestRecord,
          succession: successionTestRecord,
          reputation: dht.reputation,
          logger
        },
        { ...JSON.parse(initJson!), dataDir: join(dir!, 'replication') }
      )
      await manager.start()
      t.push(Date.now())
      logger.info(
        { createMs: t[1]! - t[0]!, bootstrapMs: t[2]! - t[1]!, managerMs: t[3]! - t[2]! },
        'bench node started'
      )
      return { peerId: dht.peerId, multiaddrs: dht.multiaddrs }
    }
    case 'fill': {
      // a lookup of its own id fills the routing table from the bootstrap peers
      await dht!.getClosestPeers(dht!.peerId, { signal: AbortSignal.timeout(5_000) }).catch(() => [])
      return { routingTable: dht!.getDHTSize(), connected: dht!.getConnectedPeers().length }
    }
    case 'store': {
      for (const r of req.records ?? []) {
        const value = new Uint8Array(r.value)
        // addContent with a value writes it into the record store itself
        if (r.managed) await manager!.addContent(r.key, value.byteLength, r.priority, { value })
        else await dht!.putValue(r.key, value, { localOnly: true })
      }
      return req.records?.length ?? 0
    }
    case 'pins': {
      const prefix = req.prefix ?? ''
      return manager!.listContent().filter((k) => k.startsWith(prefix) && manager!.getPinnedValue(k) != null)
    }
    case 'memory': {
      // this node process's own memory: one libp2p node, its DHT datastore and its manager
      const { rss, heapUsed, external } = process.memoryUsage()
      return { rss, heapUsed, external }
    }
    case 'metrics': {
      const m = manager!.getMetrics() as unknown as Record<string, unknown>
      return Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number'))
    }
    case 'get': {
      const keys = req.keys ?? []
      const out: Array<Uint8Array | null> = keys.map(() => null)
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < keys.length) {
          const i = next++
          try {
            out[i] = await dht!.getValue(keys[i]!, { signal: AbortSignal.timeout(15_000) })
          } catch {
            // not found
          }
        }
      }
      await Promise.all(Array.from({ length: req.concurrency ?? 8 }, worker))
      return out
    }
    case 'stop': {
      await shutdown()
      return true
    }
    default:
      throw new Error(`unknown op ${req.op}`)
  }
}

async function shutdown(): Promise<void> {
  const m = manager
  const d = dht
  manager = undefined
  dht = undefined
  await m?.stop().catch(() => {})
  await d?.close().catch(() => {})
}

process.on('message', (msg: Req) => {
  handle(msg).then(
    (result) => send({ id: msg.id, ok: true, result }),
    (err: unknown) => send({ id: msg.id, ok: false, error: String((err as Error)?.stack ?? err) })
  )
})
// the controller died or closed the channel: do not linger
process.on('disconnect', () => {
  shutdown().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 3_000).unref()
})
send({ ready: true })
