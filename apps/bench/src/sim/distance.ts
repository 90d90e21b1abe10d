import { createHash } from 'node:crypto'

/** Kademlia ids are SHA-256 digests, as kad-dht's convertBuffer makes them. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** -1, 0 or 1 as the XOR distance of `a` to `target` is smaller than, equal to or larger than b's. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] ?? 0) ^ (target[i] ?? 0)
    const db = (b[i] ?? 0) ^ (target[i] ?? 0)
    if (da !== db) return da < db ? -1 : 1
  }
  return 0
}
