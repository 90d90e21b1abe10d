/**
 * An event-driven copy of kad-dht 16's lookup (query/manager.js + query/query-path.js), for
 * networks too large for its async machinery. What it keeps, rule for rule:
 * - the origin takes the k closest peers of its own routing table, shuffles them and deals them
 *   round-robin onto `disjointPaths` paths;
 * - one seen-set is shared by all paths, so a peer is queried by at most one path;
 * - each path runs at most `alpha` requests at once, always starting the queued peer closest to
 *   the key, and skips (without a request) a peer that could no longer enter the path's k
 *   closest responders ("path converged");
 * - from a response, a closer peer is queued only when it is unseen, not the origin, strictly
 *   closer to the key than the responder, and able to enter the path's k closest;
 * - the lookup ends when every path is idle; its result is the k closest peers that answered.
 * Only time is modelled: an answer arrives after a round-trip drawn uniformly from
 * RTT_MIN_MS..RTT_MAX_MS, a dead peer costs DEAD_PEER_TIMEOUT_MS, and completions are processed in
 * time order, as the real code processes them in arrival order.
 */
import { compareDistance, sha256 } from './distance.js'
import type { LookupResult, SimNode } from './network.js'
import type { Random } from './random.js'

export const RTT_MIN_MS = 10
export const RTT_MAX_MS = 50
export const DEAD_PEER_TIMEOUT_MS = 2_000

export interface LookupContext {
  k: number
  alpha: number
  disjointPaths: number
  random: Random
  /** The responder's FIND_NODE answer. */
  closestInTable(node: SimNode, kadId: Uint8Array, exclude?: SimNode): SimNode[]
  /** Offer a peer to a node's routing table (KBucket's insertion rules). */
  offer(node: SimNode, peer: SimNode): Promise<void>
}

interface Path {
  queue: SimNode[]
  running: number
  /** The k closest peers that answered on this path, closest first. */
  closest: SimNode[]
}

interface InFlight {
  at: number
  path: Path
  peer: SimNode
}

export async function runLookup(ctx: LookupContext, origin: SimNode, key: Uint8Array): Promise<LookupResult> {
  const kadId = sha256(key)
  const cmp = (a: SimNode, b: SimNode): number => compareDistance(kadId, a.kadId, b.kadId)
  const canEnter = (path: Path, peer: SimNode): boolean =>
    path.closest.length < ctx.k || cmp(peer, path.closest[path.closest.length - 1]!) < 0
  const insertSorted = (list: SimNode[], peer: SimNode, cap: number): void => {
    let i = list.length
    while (i > 0 && cmp(peer, list[i - 1]!) < 0) i--
    list.splice(i, 0, peer)
    if (list.length > cap) list.pop()
  }

  const start = ctx.random.shuffle(ctx.closestInTable(origin, kadId))
  const paths: Path[] = []
  for (let i = 0; i < Math.min(ctx.disjointPaths, start.length); i++)
    paths.push({ queue: [], running: 0, closest: [] })
  const seen = new Set<SimNode>()
  const depth = new Map<SimNode, number>()
  for (const [i, peer] of start.entries()) {
    seen.add(peer)
    depth.set(peer, 1)
    insertSorted(paths[i % paths.length]!.queue, peer, Number.POSITIVE_INFINITY)
  }

  const inFlight: InFlight[] = []
  const responded: SimNode[] = []
  let now = 0
  let messages = 0
  let failed = 0
  let rounds = 0

  const pump = (path: Path): void => {
    while (path.running < ctx.alpha && path.queue.length > 0) {
      const peer = path.queue.shift()!
      if (!canEnter(path, peer)) continue // path converged for this peer: no request
      messages++
      rounds = Math.max(rounds, depth.get(peer) ?? 1)
      path.running++
      const delay = peer.alive
        ? RTT_MIN_MS + ctx.random.next() * (RTT_MAX_MS - RTT_MIN_MS)
        : DEAD_PEER_TIMEOUT_MS
      const entry = { at: now + delay, path, peer }
      let i = inFlight.length
      while (i > 0 && inFlight[i - 1]!.at > entry.at) i--
      inFlight.splice(i, 0, entry)
    }
  }

  for (const path of paths) pump(path)
  while (inFlight.length > 0) {
    const { at, path, peer } = inFlight.shift()!
    now = at
    path.running--
    if (!peer.alive) {
      failed++
    } else {
      // The responder learns the requester (inbound DHT connection); the requester learns the responder.
      await ctx.offer(peer, origin)
      await ctx.offer(origin, peer)
      responded.push(peer)
      insertSorted(path.closest, peer, ctx.k)
      const d = depth.get(peer) ?? 1
      for (const closer of ctx.closestInTable(peer, kadId, origin)) {
        if (seen.has(closer) || closer === origin) continue
        if (cmp(closer, peer) >= 0) continue
        if (!canEnter(path, closer)) continue
        seen.add(closer)
        depth.set(closer, d + 1)
        insertSorted(path.queue, closer, Number.POSITIVE_INFINITY)
      }
    }
    pump(path)
  }

  const closest = responded.sort(cmp).slice(0, ctx.k)
  const first = closest[0]
  return {
    closest,
    messages,
    failed,
    distinct: messages,
    hops: first == null ? 0 : (depth.get(first) ?? 1),
    rounds,
    timeMs: now
  }
}
