/**
 * One raw @libp2p/kad-dht node inside a lab namespace (the lab bench's baseline): plain libp2p with
 * LibP2PDHT's transport stack (TCP, Noise, Yamux, identify, ping) and kad-dht with permissive
 * records, listening on every interface of its namespace. A public node is a DHT server announcing
 * its site address; a NATed one is a DHT client (what AutoNAT makes a CHORUS agent behind NAT; plain
 * kad-dht has no relay). The lab bench drives it over HTTP on the namespace's loopback:
 *
 *   node kad-node.js <p2p port> <control port> <announce ip | -> <server | client>
 *   GET  /info         -> { peerId, addr }     (addr: the announced address with /p2p/, or '')
 *   GET  /size         -> { size }             (routing table size)
 *   POST /dial { addr }
 *   POST /put  { key, bytes }                  (kad's put of `bytes` bytes under /test/<key>)
 *   POST /get  { key } -> { bytes }            (kad's get through content routing)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { permissiveRecords } from '@chorus/dht/testing'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type SingleKadDHT } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const [p2pPort, controlPort, announceIp, mode] = process.argv.slice(2)
if (!(Number(p2pPort) > 0 && Number(controlPort) > 0) || (mode !== 'server' && mode !== 'client')) {
  process.stderr.write('usage: kad-node.js <p2p port> <control port> <announce ip | -> <server | client>\n')
  process.exit(2)
}
const announce = announceIp !== undefined && announceIp !== '-' ? [`/ip4/${announceIp}/tcp/${p2pPort}`] : []
const node = await createLibp2p({
  addresses: { listen: [`/ip4/0.0.0.0/tcp/${p2pPort}`], announce },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // lab addresses are private: dialling them is the point
  connectionGater: { denyDialMultiaddr: () => false },
  connectionManager: { dialTimeout: 30_000, inboundUpgradeTimeout: 30_000 },
  services: {
    identify: identify(),
    ping: ping(),
    dht: kadDHT({
      protocol: '/baseline/kad/1.0.0',
      clientMode: mode === 'client',
      peerInfoMapper: passthroughMapper,
      validators: permissiveRecords.validators,
      selectors: permissiveRecords.selectors
    })
  }
})
const enc = new TextEncoder()
const MAX_BODY = 64 * 1024
const OP_TIMEOUT_MS = 60_000

function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => {
      text += d
      if (text.length > MAX_BODY) req.destroy(new Error('body too large'))
    })
    req.on('end', () => {
      try {
        const v = text === '' ? {} : (JSON.parse(text) as unknown)
        resolve(typeof v === 'object' && v != null ? (v as Record<string, unknown>) : {})
      } catch {
        reject(new Error('body is not JSON'))
      }
    })
    req.on('error', reject)
  })
}

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > 1000) throw new Error(`${what} missing`)
  return v
}

async function handle(req: IncomingMessage): Promise<unknown> {
  const b = req.method === 'POST' ? await body(req) : {}
  switch (`${req.method} ${req.url}`) {
    case 'GET /info': {
      const addr = node.getMultiaddrs().find((m) => announce.some((a) => m.toString().startsWith(a)))
      return { peerId: node.peerId.toString(), addr: addr?.toString() ?? '' }
    }
    case 'GET /size':
      return { size: (node.services.dht as SingleKadDHT).routingTable.size }
    case 'POST /dial':
      await node.dial(multiaddr(str(b.addr, 'addr')), { signal: AbortSignal.timeout(OP_TIMEOUT_MS) })
      return {}
    case 'POST /put': {
      const bytes = Math.min(Math.max(Number(b.bytes) || 1024, 1), 1 << 20)
      const value = new Uint8Array(bytes).fill(0x61)
      await node.contentRouting.put(enc.encode(`/test/${str(b.key, 'key')}`), value, {
        signal: AbortSignal.timeout(OP_TIMEOUT_MS)
      })
      return {}
    }
    case 'POST /get': {
      const v = await node.contentRouting.get(enc.encode(`/test/${str(b.key, 'key')}`), {
        signal: AbortSignal.timeout(OP_TIMEOUT_MS)
      })
      return { bytes: v.byteLength }
    }
    default:
      throw new Error('no such operation')
  }
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}

const server = createServer((req, res) => {
  handle(req).then(
    (v) => reply(res, 200, v),
    (err: Error) => reply(res, 500, { error: err.message.slice(0, 200) })
  )
})
server.listen(Number(controlPort), '127.0.0.1', () => process.stdout.write(`ready ${node.peerId}\n`))
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close()
    Promise.resolve(node.stop()).finally(() => process.exit(0))
  })
}
