import { randomUUID } from 'node:crypto'
import type { DHT } from '@chorus/dht'
import { ProbeFailedError } from './errors.js'

/**
 * Decides whether the primary is usable: resolves when it is, throws (anything) when it is not.
 * It gets the primary and a signal that aborts at `probeTimeout` or on shutdown.
 */
export type HealthProbe = (primary: DHT, options: { signal: AbortSignal }) => Promise<void>

/**
 * The default probe: a closest-peers lookup for a random key must return at least one peer.
 * kad-dht only reports peers that answered the lookup, so this is a real round trip through the
 * network (one FIND_NODE per contacted peer), cheap, and needs no record rules or write rights,
 * unlike a probe put. A node with no reachable peer fails it, which is what fail-over is about:
 * its writes would reach nobody.
 */
export const closestPeersProbe: HealthProbe = async (primary, { signal }) => {
  const peers = await primary.getClosestPeers(`/chorus-hybrid-probe/${randomUUID()}`, { limit: 1, signal })
  if (peers.length === 0) throw new ProbeFailedError('no peer answered a closest-peers lookup')
}
