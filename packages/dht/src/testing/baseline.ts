import type { Identify } from '@libp2p/identify'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper, type SingleKadDHT } from '@libp2p/kad-dht'
import { type Ping, ping } from '@libp2p/ping'
import { createLibp2p } from 'libp2p'
import { transportConfig } from '../libp2p/node.js'
import { TEST_CONNECTION_LIMITS, withRetries } from './network.js'
import { permissiveRecords } from './records.js'

export interface KadBaselineInit {
  nodes: number
  /** Bounded wait for routing tables, in ms. Default: 30000. */
  readyTimeout?: number
}

export type BaselineNode = Libp2p<{ dht: KadDHT; ping: Ping; identify: Identify }>

export interface KadBaselineNetwork {
  nodes: BaselineNode[]
  /** kad-dht's own put (drained: resolves whether or not any peer stored it). */
  put(node: number, key: string, value: Uint8Array, options?: { signal?: AbortSignal }): Promise<void>
  /** kad-dht's own get through content routing (the best value, with corrections). */
  get(node: number, key: string, options?: { signal?: AbortSignal }): Promise<Uint8Array>
  stop(): Promise<void>
}

/**
 * A same-run baseline: plain libp2p + @libp2p/kad-dht with the transport stack and connection
 * limits of LibP2PDHT (tcp, noise, yamux, identify, ping), server mode and private addresses kept,
 * joined through node 0 like `startNetwork`. Keys `/CHORUS/...` and `/test/...` accept any value.
 */
export async function startKadBaselineNetwork(opts: KadBaselineInit): Promise<KadBaselineNetwork> {
  const nodes: BaselineNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((n) => n.stop()))
  }
  const make = async (): Promise<BaselineNode> => {
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      ...transportConfig(undefined, TEST_CONNECTION_LIMITS),
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({
          protocol: '/baseline/kad/1.0.0',
          clientMode: false,
          peerInfoMapper: passthroughMapper,
          validators: permissiveRecords.validators,
          selectors: permissiveRecords.selectors
        })
      }
    })
    nodes.push(node)
    return node
  }
  try {
    const first = await make()
    const addr = first.getMultiaddrs()[0]!
    const rest = await Promise.all(Array.from({ length: opts.nodes - 1 }, make))
    // joined in waves of 10, like startNetwork
    for (let i = 0; i < rest.length; i += 10) {
      await Promise.all(rest.slice(i, i + 10).map((n) => withRetries(() => n.dial(addr), 3)))
    }
    const size = (n: BaselineNode): number => (n.services.dht as SingleKadDHT).routingTable.size
    const deadline = Date.now() + (opts.readyTimeout ?? 30_000)
    while (Date.now() < deadline && nodes.some((n) => size(n) < nodes.length - 1)) {
      await new Promise((r) => setTimeout(r, 500))
    }
    const enc = new TextEncoder()
    return {
      nodes: [first, ...rest],
      async put(i, key, value, options = {}) {
        const node = nodes[i]
        if (node == null) throw new RangeError(`no node ${i}`)
        await node.contentRouting.put(enc.encode(key), value, options)
      },
      async get(i, key, options = {}) {
        const node = nodes[i]
        if (node == null) throw new RangeError(`no node ${i}`)
        return node.contentRouting.get(enc.encode(key), options)
      },
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
