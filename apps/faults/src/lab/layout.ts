/**
 * The pure parts of the lab target: which node sits on which site, and the iptables rules that
 * take a NATed node's relay away.
 */

export interface LabSiteLayout {
  name: string
  /** Behind a NAT router (its nodes are DHT clients reached through a relay). */
  nat: boolean
  /** The run's node numbers on this site. */
  nodes: number[]
}

/** Lab node (and agent) name of node `i`. */
export const labNodeName = (i: number): string => `n${i}`

/**
 * Two sites: `office` (public: DHT servers, relays) with the larger half of the nodes, at least
 * two so that a NATed node whose relay is taken away has another one to turn to; `home` behind a
 * NAT router with the rest, at least one. One NATed site only: the lab sees the nodes of two NATed
 * sites only as their routers' shared addresses, so a partition could not cut a hole-punched
 * connection between them.
 */
export function labLayout(nodes: number): LabSiteLayout[] {
  if (!Number.isInteger(nodes) || nodes < 3)
    throw new RangeError('a lab fault run needs at least 3 nodes (2 public, 1 behind NAT)')
  const publicCount = Math.max(2, Math.ceil(nodes / 2))
  const all = Array.from({ length: nodes }, (_, i) => i)
  return [
    { name: 'office', nat: false, nodes: all.slice(0, publicCount) },
    { name: 'home', nat: true, nodes: all.slice(publicCount) }
  ]
}

/** The NATed nodes of a layout (the nodes a relay fault can hit). */
export const natNodes = (layout: readonly LabSiteLayout[]): number[] =>
  layout.filter((s) => s.nat).flatMap((s) => s.nodes)

/** The chain, in a NATed node's namespace, that holds its relay cuts. */
export const RELAY_CHAIN = 'FAULTS-RELAY'

/**
 * Rules (iptables arguments, appended to `RELAY_CHAIN`) that cut a NATed node from the relay at
 * `address`: TCP answered with a reset both ways, so that the relayed connection and its
 * reservation end at once instead of waiting for a timeout, and new dials fail fast; anything
 * else dropped.
 */
export function relayCutRules(address: string): string[][] {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new RangeError('not an IPv4 address')
  return ['-d', '-s'].flatMap((dir) => [
    ['-A', RELAY_CHAIN, dir, address, '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ['-A', RELAY_CHAIN, dir, address, '-j', 'DROP']
  ])
}

/** The nodes whose peer id is among `relays` (a status's relay peer ids). */
export function relayNodesOf(relays: readonly string[], peerIds: ReadonlyMap<number, string>): number[] {
  const wanted = new Set(relays)
  return [...peerIds].filter(([, id]) => wanted.has(id)).map(([node]) => node)
}
