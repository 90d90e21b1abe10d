/**
 * Keyspace regions and the summaries two holders compare.
 *
 * A region is every position (SHA-256 of a key's bytes) that starts with the same `bits`-bit
 * prefix. The sweep's prefix length (see {@link regionBits}) is
 *
 *   bits = max(ceil(log2(keysHeld / sweepRegionKeys)), ceil(log2(networkSize / REGION_PEERS)))
 *
 * capped at {@link MAX_PREFIX_BITS}: keys are uniform in the keyspace, so a region holds about
 * `sweepRegionKeys` of this node's keys or fewer, and about `REGION_PEERS` peers or fewer, so the
 * ~20 peers one closest-peers lookup returns include the closest holders of every key in it.
 *
 * The keys two peers S and T both should hold in a region, as seen from the lookup's peer set P
 * (sent in every message, so both sides compute the same set), are the held keys for which both
 * S and T are among the `replicationFactor` peers of P closest to the key (the slack a receiver
 * tolerates for pushes is not a target: with it, every key would grow to factor + slack copies). Their
 * summary is a two-level Merkle tree: the keys fall into `2^depth` leaves by the `depth` bits that
 * follow the prefix; a leaf hash is SHA-256 over its sorted (position, value digest) pairs, the root
 * SHA-256 over the leaf hashes.
 */
import { createHash } from 'node:crypto'
import { peerPosition } from '@chorus/dht'

/** Regions are at most this narrow (2^32 regions: far past any real store). */
export const MAX_PREFIX_BITS = 32
/** About this many peers per region (a lookup returns k = 20, so the closest holders are in it). */
export const REGION_PEERS = 8
/** About this many keys per leaf of a summary. */
export const LEAF_KEYS = 8
/** Leaves are at most 2^MAX_DEPTH (1024, 32 KiB of leaf hashes in a reply). */
export const MAX_DEPTH = 10
export const HASH_BYTES = 32

/** The prefix length of the regions for `keys` held on a network of about `peers` nodes. */
export function regionBits(keys: number, peers: number, regionKeys: number): number {
  const byKeys = keys <= regionKeys ? 0 : Math.ceil(Math.log2(keys / regionKeys))
  const byPeers = peers <= REGION_PEERS ? 0 : Math.ceil(Math.log2(peers / REGION_PEERS))
  return Math.min(MAX_PREFIX_BITS, Math.max(byKeys, byPeers))
}

/** The leaf depth for a set of `count` keys. */
export function leafDepth(count: number): number {
  return count <= LEAF_KEYS ? 0 : Math.min(MAX_DEPTH, Math.ceil(Math.log2(count / LEAF_KEYS)))
}

/** Bit `i` (0: most significant) of a position. */
function bit(p: Uint8Array, i: number): number {
  return ((p[i >> 3] ?? 0) >> (7 - (i & 7))) & 1
}

/** A region: its prefix (bits), lower bound and upper bound (all-zero: the keyspace's end). */
export interface Region {
  bits: number
  lo: Uint8Array
  hi: Uint8Array
}

/** The region of `bits` bits that holds `position`. */
export function regionOf(position: Uint8Array, bits: number): Region {
  const lo = new Uint8Array(32)
  for (let i = 0; i < bits; i++) if (bit(position, i) === 1) lo[i >> 3]! |= 1 << (7 - (i & 7))
  return { bits, lo, hi: regionEnd(lo, bits) }
}

/** The first position after the region (all-zero when the region ends the keyspace). */
export function regionEnd(lo: Uint8Array, bits: number): Uint8Array {
  const hi = new Uint8Array(lo)
  if (bits === 0) return new Uint8Array(32)
  // add 1 at bit (bits - 1), carrying upwards
  let i = bits - 1
  for (;;) {
    const byte = i >> 3
    const mask = 1 << (7 - (i & 7))
    if ((hi[byte]! & mask) === 0) {
      hi[byte]! |= mask
      return hi
    }
    hi[byte]! &= ~mask
    if (i === 0) return new Uint8Array(32)
    i--
  }
}

/** The prefix bytes of a region as sent (ceil(bits / 8) bytes). */
export function prefixBytes(region: Region): Uint8Array {
  return region.lo.slice(0, Math.ceil(region.bits / 8))
}

/** The region a message names, or undefined when the prefix has bits set past `bits`. */
export function regionFromPrefix(prefix: Uint8Array, bits: number): Region | undefined {
  if (prefix.byteLength !== Math.ceil(bits / 8)) return undefined
  const lo = new Uint8Array(32)
  lo.set(prefix)
  for (let i = bits; i < prefix.byteLength * 8; i++) if (bit(lo, i) === 1) return undefined
  return { bits, lo, hi: regionEnd(lo, bits) }
}

export function inRegion(position: Uint8Array, region: Region): boolean {
  for (let i = 0; i < region.bits; i++) if (bit(position, i) !== bit(region.lo, i)) return false
  return true
}

/** The leaf (0 .. 2^depth - 1) of a position: the `depth` bits after the region's prefix. */
export function leafOf(position: Uint8Array, bits: number, depth: number): number {
  let leaf = 0
  for (let i = 0; i < depth; i++) leaf = (leaf << 1) | bit(position, bits + i)
  return leaf
}

/** -1, 0, 1 as `a XOR t` is below, equal to, above `b XOR t` (big-endian, no bigint). */
function compareDistance(a: Uint8Array, b: Uint8Array, t: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const x = (a[i]! ^ t[i]!) & 0xff
    const y = (b[i]! ^ t[i]!) & 0xff
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}

/** A peer set with positions computed once. */
export class PeerSet {
  readonly ids: string[]
  private readonly positions: Map<string, Uint8Array>

  constructor(ids: Iterable<string>) {
    this.positions = new Map()
    for (const id of ids) {
      const p = peerPosition(id)
      if (p !== undefined && !this.positions.has(id)) this.positions.set(id, p)
    }
    this.ids = [...this.positions.keys()]
  }

  has(id: string): boolean {
    return this.positions.has(id)
  }

  /** Whether `peer` is among the `n` peers of the set closest to `position`. */
  isTarget(peer: string, position: Uint8Array, n: number): boolean {
    const own = this.positions.get(peer)
    if (own == null) return false
    let closer = 0
    for (const [id, p] of this.positions) {
      if (id !== peer && compareDistance(p, own, position) < 0 && ++closer >= n) return false
    }
    return true
  }

  /** The `n` peers of the set closest to `position`. */
  targets(position: Uint8Array, n: number): string[] {
    return [...this.positions]
      .sort((a, b) => compareDistance(a[1], b[1], position))
      .slice(0, n)
      .map(([id]) => id)
  }
}

/** A (position, digest) pair of a summary. */
export interface SummaryEntry {
  key?: string
  position: Uint8Array
  digest: Uint8Array
}

/** Leaf hashes (2^depth × 32 bytes) of entries sorted by position. */
export function leafHashes(entries: readonly SummaryEntry[], bits: number, depth: number): Uint8Array {
  const leaves = 1 << depth
  const out = new Uint8Array(leaves * HASH_BYTES)
  const hashers = Array.from({ length: leaves }, () => createHash('sha256'))
  for (const e of entries) {
    const h = hashers[leafOf(e.position, bits, depth)]!
    h.update(e.position)
    h.update(e.digest)
  }
  for (let i = 0; i < leaves; i++) out.set(hashers[i]!.digest(), i * HASH_BYTES)
  return out
}

/** The root over the leaf hashes. */
export function rootOf(leaves: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(leaves).digest())
}

/** Indices of the leaves whose hashes differ. */
export function differingLeaves(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = []
  for (let i = 0; i * HASH_BYTES < a.byteLength; i++) {
    const o = i * HASH_BYTES
    for (let j = 0; j < HASH_BYTES; j++) {
      if (a[o + j] !== b[o + j]) {
        out.push(i)
        break
      }
    }
  }
  return out
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
