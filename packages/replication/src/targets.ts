/**
 * Which records this node should hold: those whose key it is among the closest peers to, in
 * kad-dht's key space, of itself and the peers it is connected to (the same view the pusher
 * uses to choose its targets).
 */
import { keyPosition, peerPosition, xorDistance } from '@chorus/dht'

/**
 * Whether `self` is among the `n` peers closest to `key` of itself and `peers`. Stops as soon as
 * `n` peers are found closer: a cheap check, run before any validation of a pushed record.
 */
export function isAmongClosest(key: string, self: string, peers: Iterable<string>, n: number): boolean {
  const target = keyPosition(key)
  const own = peerPosition(self)
  if (own === undefined) return false
  const mine = xorDistance(target, own)
  let closer = 0
  for (const peer of peers) {
    if (peer === self) continue
    const pos = peerPosition(peer)
    if (pos === undefined || xorDistance(target, pos) >= mine) continue
    if (++closer >= n) return false
  }
  return true
}
