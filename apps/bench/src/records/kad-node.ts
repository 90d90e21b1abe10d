/**
 * One raw @libp2p/kad-dht node in its own OS process (the records bench's baseline): plain libp2p
 * with LibP2PDHT's transport stack (@chorus/dht/testing's baseline network of one), driven over the
 * fork IPC channel. Exits when the controller goes away.
 *
 *   start                                  -> { addr }
 *   dial { addr }                          -> joins the network through addr
 *   size                                   -> routing table size
 *   put { count, concurrency, bytes }      -> { ok, failed, ms } (count puts of `bytes`, that many in flight)
 *   provide { count }                      -> { messages: number[] } (SEND_QUERY events of each kad provide)
 *   stop
 */
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { runPool } from './pool.js'

type Network = Awaited<ReturnType<typeof import('@chorus/dht/testing').startKadBaselineNetwork>>

if (process.send == null) {
  process.stderr.write('kad-node.js is forked by the records bench\n')
  process.exit(2)
}
const send = process.send.bind(process)
let net: Network | undefined

interface Req {
  id: number
  op: string
  addr?: string
  count?: number
  concurrency?: number
  bytes?: number
}

function node(): Network {
  if (net == null) throw new Error('not started')
  return net
}

async function handle(req: Req): Promise<unknown> {
  switch (req.op) {
    case 'start': {
      const { startKadBaselineNetwork } = await import('@chorus/dht/testing')
      net = await startKadBaselineNetwork({ nodes: 1, readyTimeout: 0 })
      const n = net.nodes[0]!
      return { addr: n.getMultiaddrs()[0]!.toString() }
    }
    case 'dial': {
      const { multiaddr } = await import('@multiformats/multiaddr')
      await node().nodes[0]!.dial(multiaddr(req.addr!))
      return null
    }
    case 'size':
      return (node().nodes[0]!.services.dht as SingleKadDHT).routingTable.size
    case 'put': {
      const bytes = req.bytes ?? 1024
      const tag = `${process.pid}-${Date.now()}`
      const r = await runPool(req.count ?? 0, req.concurrency ?? 16, async (i) => {
        const value = new Uint8Array(bytes).fill(i & 0xff)
        await node().put(0, `/test/records-baseline-${tag}-${i}`, value)
      })
      return { ok: r.ok, failed: r.failed, ms: r.ms, errors: r.errors }
    }
    case 'provide': {
      const dht = node().nodes[0]!.services.dht
      const messages: number[] = []
      for (let i = 0; i < (req.count ?? 0); i++) {
        const digest = await sha256.digest(new TextEncoder().encode(`records-provide-${process.pid}-${i}`))
        const cid = CID.createV1(0x55, digest)
        let sent = 0
        for await (const event of dht.provide(cid)) if (event.name === 'SEND_QUERY') sent++
        messages.push(sent)
      }
      return { messages }
    }
    case 'stop':
      await net?.stop()
      process.exit(0)
      return null
    default:
      throw new Error(`unknown op ${req.op}`)
  }
}

process.on('message', (req: Req) => {
  handle(req).then(
    (result) => send({ id: req.id, ok: true, result }),
    (err: Error) => send({ id: req.id, ok: false, error: err.message })
  )
})
process.on('disconnect', () => process.exit(0))
