import type { RecordRules } from '../contract.js'
import { createLibP2PDHT, type LibP2PDHT, type LibP2PDHTInit } from '../libp2p/libp2p-dht.js'
import { permissiveRecords } from './records.js'

export interface NetworkInit {
  /** Number of nodes (at least 1). */
  nodes: number
  /** Record rules of every node. Default: `permissiveRecords`. */
  records?: RecordRules
  /** Private-network key of every node. Default: none. */
  psk?: Uint8Array | string
  /**
   * Extra init for every node, or per node by index (0 is the bootstrap node). Default: loopback
   * listen address, server mode, no auto-bootstrap (the network bootstraps each node itself).
   */
  init?: Partial<LibP2PDHTInit> | ((index: number) => Partial<LibP2PDHTInit>)
  /** How long to wait for routing tables to fill, in ms. Default: 30000. */
  readyTimeout?: number
  /**
   * How many nodes join at the same time (all through node 0). Default: 10, so larger networks join
   * in waves: on a loaded machine 20 simultaneous handshakes with one node can exceed its upgrade timeout.
   */
  joinConcurrency?: number
}

export interface TestNetwork {
  /** The started nodes; `nodes[0]` is the bootstrap node the others joined through. */
  nodes: LibP2PDHT[]
  /** The bootstrap node's multiaddrs (to join more nodes to this network). */
  bootstrapAddrs: string[]
  /** Closes every node (idempotent). */
  stop(): Promise<void>
}

/**
 * Starts `nodes` real LibP2PDHT nodes on 127.0.0.1 (ephemeral TCP ports) and joins them through
 * node 0, all at once, then waits (bounded by `readyTimeout`) until every routing table holds the
 * other nodes, or at least one peer when the wait runs out. Throws, closing everything it started,
 * if a node cannot join.
 */
export async function startNetwork(opts: NetworkInit): Promise<TestNetwork> {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1) throw new RangeError('nodes must be an integer >= 1')
  const readyTimeout = opts.readyTimeout ?? 30_000
  const initFor = (i: number): LibP2PDHTInit => ({
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mode: 'server',
    autoBootstrap: false,
    // a loaded test machine can be slow to finish handshakes
    connection: TEST_CONNECTION_LIMITS,
    records: opts.records ?? permissiveRecords,
    ...(opts.psk != null ? { psk: opts.psk } : {}),
    ...(typeof opts.init === 'function' ? opts.init(i) : (opts.init ?? {}))
  })
  const nodes: LibP2PDHT[] = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((n) => n.close()))
  }
  try {
    const first = await createLibP2PDHT(initFor(0))
    nodes.push(first)
    const bootstrapAddrs = first.multiaddrs
    const rest = await Promise.all(
      Array.from({ length: opts.nodes - 1 }, async (_, k) => {
        const node = await createLibP2PDHT({ bootstrapPeers: bootstrapAddrs, ...initFor(k + 1) })
        nodes.push(node)
        return node
      })
    )
    // on a loaded machine a handshake can time out: retry a failed join twice before giving up
    await inBatches(rest, opts.joinConcurrency ?? 10, (n) => withRetries(() => n.bootstrap(), 3))
    await waitForRoutingTables(nodes, readyTimeout)
    return { nodes: [first, ...rest], bootstrapAddrs, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * Waits until every node's routing table holds all other nodes (after a third of `timeout`: half
 * of them); nodes still short get another self lookup every second. When time runs out, each node
 * needs at least one peer.
 */
async function waitForRoutingTables(nodes: LibP2PDHT[], timeout: number): Promise<void> {
  if (nodes.length < 2) return
  const full = nodes.length - 1
  const start = Date.now()
  const deadline = start + timeout
  while (Date.now() < deadline) {
    // full tables first; after a third of the wait, half-full tables route every lookup well enough
    const want = Date.now() - start < timeout / 3 ? full : Math.ceil(full / 2)
    const short = nodes.filter((n) => n.getDHTSize() < want)
    if (short.length === 0) return
    await new Promise((r) => setTimeout(r, 250))
    if ((deadline - Date.now()) % 1000 < 250) {
      await Promise.allSettled(
        short.map((n) => n.getClosestPeers(n.peerId, { signal: AbortSignal.timeout(2_000) }))
      )
    }
  }
  const empty = nodes.filter((n) => n.getDHTSize() === 0)
  if (empty.length > 0) {
    throw new Error(`${empty.length} node(s) have an empty routing table after ${timeout} ms`)
  }
}

/** Connection limits of test networks: libp2p's defaults, but generous handshake timeouts. */
export const TEST_CONNECTION_LIMITS = {
  dialTimeout: 30_000,
  addressDialTimeout: 30_000,
  inboundUpgradeTimeout: 30_000
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const step = Math.max(1, Math.floor(size))
  for (let i = 0; i < items.length; i += step) {
    await Promise.all(items.slice(i, i + step).map(fn))
  }
}

export async function withRetries<T>(fn: () => Promise<T>, attempts: number): Promise<T> {
  let last: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn()
    } catch (err) {
      last = err
      await new Promise((r) => setTimeout(r, 250 * (i + 1)))
    }
  }
  throw last
}
