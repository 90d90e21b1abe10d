// Network fault tools for real LibP2PDHT nodes: a partition gater, reconnecting, stalling a protocol.
import type { LibP2PDHT } from '@chorus/dht'

const GATER_METHODS = [
  'denyDialPeer',
  'denyOutboundConnection',
  'denyInboundEncryptedConnection',
  'denyOutboundEncryptedConnection',
  'denyInboundUpgradedConnection',
  'denyOutboundUpgradedConnection'
] as const

type Gater = Record<string, ((...args: unknown[]) => Promise<boolean> | boolean) | undefined>

/**
 * Adds a blocklist to a running node's libp2p connection gater (libp2p reads the gater's methods
 * at each dial and upgrade, so changing them at run time takes effect at once). Returns the set.
 */
export function blocklist(node: LibP2PDHT): Set<string> {
  const components = (node.libp2p as unknown as { components: { connectionGater: Gater } }).components
  const gater = components.connectionGater
  const blocked = new Set<string>()
  for (const m of GATER_METHODS) {
    const inner = gater[m]
    gater[m] = async (...args: unknown[]) => {
      if (blocked.has(String(args[0]))) return true
      return inner != null ? await inner.apply(gater, args) : false
    }
  }
  return blocked
}

/** Splits the nodes into two sides that refuse each other and closes the connections between them. */
export async function partition(sides: [LibP2PDHT[], LibP2PDHT[]], lists: Map<LibP2PDHT, Set<string>>) {
  const [a, b] = sides
  for (const [mine, theirs] of [
    [a, b],
    [b, a]
  ] as const) {
    for (const n of mine) for (const o of theirs) lists.get(n)!.add(o.peerId)
  }
  await Promise.all(a.flatMap((n) => b.map((o) => n.libp2p.hangUp(o.libp2p.peerId).catch(() => {}))))
  await Promise.all(b.flatMap((n) => a.map((o) => n.libp2p.hangUp(o.libp2p.peerId).catch(() => {}))))
}

/** Lifts every block and reconnects every pair of nodes. */
export async function heal(nodes: LibP2PDHT[], lists: Map<LibP2PDHT, Set<string>>) {
  for (const n of nodes) lists.get(n)!.clear()
  await Promise.allSettled(
    nodes.flatMap((n, i) => nodes.slice(i + 1).map((o) => n.libp2p.dial(o.libp2p.peerId)))
  )
}

/** Whether two nodes currently hold a connection. */
export const connected = (a: LibP2PDHT, b: LibP2PDHT): boolean => a.getConnectedPeers().includes(b.peerId)
