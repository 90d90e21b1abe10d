/**
 * XOR distance in Kademlia's key space, computed as @libp2p/kad-dht does: both a record key and a
 * peer id are hashed with SHA-256 (the key's UTF-8 bytes, the peer id's multihash bytes) and the
 * distance is the XOR of the two digests read as a 256-bit big-endian number.
 */
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'

const textEncoder = new TextEncoder()

/** The key's position in the DHT key space. */
export function keyPosition(key: string): Uint8Array {
  return createHash('sha256').update(textEncoder.encode(key)).digest()
}

/** The peer's position in the DHT key space; undefined when the id is not a base58btc multihash. */
export function peerPosition(peerId: string): Uint8Array | undefined {
  try {
    return createHash('sha256').update(base58btc.baseDecode(peerId)).digest()
  } catch {
    return undefined
  }
}

/** The XOR of two positions as a bigint (the full distance). */
export function xorDistance(a: Uint8Array, b: Uint8Array): bigint {
  let hex = ''
  for (let i = 0; i < 32; i++) hex += (((a[i] ?? 0) ^ (b[i] ?? 0)) & 0xff).toString(16).padStart(2, '0')
  return BigInt(`0x${hex}`)
}

/**
 * The log2 distance: the bit length of the XOR, 0 (same position) to 256 (differs in the first
 * bit). It equals 256 minus the number of leading bits the two positions share, which is the
 * Kademlia bucket the peer falls in as seen from the key.
 */
export function log2Distance(d: bigint): number {
  return d === 0n ? 0 : d.toString(2).length
}

/** Full XOR distance between a key and a peer; peers whose id cannot be decoded sort last. */
export function keyPeerDistance(key: string, peerId: string): bigint {
  const p = peerPosition(peerId)
  if (p == null) return 1n << 256n
  return xorDistance(keyPosition(key), p)
}

/** Sorts peer ids by XOR distance to the key, closest first (a new array). */
export function sortByDistance(key: string, peers: readonly string[]): string[] {
  const target = keyPosition(key)
  const dist = new Map<string, bigint>()
  for (const p of peers) {
    const pos = peerPosition(p)
    dist.set(p, pos == null ? 1n << 256n : xorDistance(target, pos))
  }
  return [...peers].sort((a, b) => {
    const da = dist.get(a) ?? 0n
    const db = dist.get(b) ?? 0n
    return da < db ? -1 : da > db ? 1 : 0
  })
}
