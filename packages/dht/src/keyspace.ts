/**
 * Kademlia's key space, computed as @libp2p/kad-dht does: a record key and a peer id are both
 * hashed with SHA-256 (the key's UTF-8 bytes, the peer id's multihash bytes), and the distance
 * between two positions is their XOR read as a 256-bit big-endian number. Storage (direct pushes)
 * and replication (push targets, repair rank) order peers by it.
 */
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { remembered } from './remembered.js'

/** Farther than any real distance: where peers whose id does not decode sort. */
const BEYOND = 1n << 256n

/** The key's position in the key space. */
export function keyPosition(key: string): Uint8Array {
  return createHash('sha256').update(key, 'utf8').digest()
}

// The same few peers are ranked for every key (push targets, holders, the sweep): their positions
// are remembered, for at most this many peers.
const MAX_REMEMBERED_POSITIONS = 4096
const positionOf = remembered(MAX_REMEMBERED_POSITIONS, (peerId): Uint8Array | undefined => {
  try {
    return createHash('sha256').update(base58btc.baseDecode(peerId)).digest()
  } catch {
    return undefined
  }
})

/**
 * The peer's position in the key space; undefined when the id is not a base58btc multihash. The
 * array is shared by every caller: read it, never change it.
 */
export function peerPosition(peerId: string): Uint8Array | undefined {
  return positionOf(peerId)
}

/** The XOR of two positions as a bigint (the full distance). */
export function xorDistance(a: Uint8Array, b: Uint8Array): bigint {
  let d = 0n
  // four 64-bit words, each from two 32-bit halves: far fewer bigint steps than byte by byte
  for (let i = 0; i < 32; i += 8) {
    const hi = (x(a, b, i) << 24) | (x(a, b, i + 1) << 16) | (x(a, b, i + 2) << 8) | x(a, b, i + 3)
    const lo = (x(a, b, i + 4) << 24) | (x(a, b, i + 5) << 16) | (x(a, b, i + 6) << 8) | x(a, b, i + 7)
    d = (d << 64n) | (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)
  }
  return d
}

/** Byte `i` of the XOR of two positions (0 past the end of either). */
const x = (a: Uint8Array, b: Uint8Array, i: number): number => ((a[i] ?? 0) ^ (b[i] ?? 0)) & 0xff

/**
 * The log2 distance: the bit length of the XOR, 0 (same position) to 256 (differs in the first
 * bit): 256 minus the leading bits the positions share, the Kademlia bucket of the one as seen
 * from the other.
 */
export function log2Distance(d: bigint): number {
  return d === 0n ? 0 : d.toString(2).length
}

/** Full XOR distance between a key and a peer; a peer whose id does not decode is beyond all. */
export function keyPeerDistance(key: string, peerId: string): bigint {
  const p = peerPosition(peerId)
  return p === undefined ? BEYOND : xorDistance(keyPosition(key), p)
}

/**
 * Peer ids ordered by XOR distance to the key, closest first (a new array). Peers whose id does
 * not decode come last, or are dropped with `{ dropUndecodable: true }`.
 */
export function sortByDistance(
  key: string,
  peers: readonly string[],
  options: { dropUndecodable?: boolean } = {}
): string[] {
  const target = keyPosition(key)
  const ranked: Array<{ id: string; d: bigint }> = []
  for (const id of peers) {
    const pos = peerPosition(id)
    if (pos === undefined && options.dropUndecodable === true) continue
    ranked.push({ id, d: pos === undefined ? BEYOND : xorDistance(target, pos) })
  }
  return ranked.sort((a, b) => (a.d < b.d ? -1 : a.d > b.d ? 1 : 0)).map((p) => p.id)
}
