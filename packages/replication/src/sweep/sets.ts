/**
 * The set two peers compare in a region (see `keyspace.ts`), read in pages from the store, and
 * the sampled proof of possession that confirms a matching summary.
 */
import { createHash } from 'node:crypto'
import { possessionProof } from '../proof.js'
import { hex, type PeerSet, type Region } from './keyspace.js'
import type { PinnedInRange, PinnedRanges } from './ranges.js'
import { MAX_SYNC_KEYS, PAIR_HALF } from './wire.js'

const PAGE = 1024
/** Rows read at most for one set (keys held in the region but not shared with the peer included). */
const MAX_SCANNED = 8 * MAX_SYNC_KEYS

/** The held keys of `region`, in position order, at most `MAX_SCANNED` of them (read in pages). */
export function regionEntries(ranges: PinnedRanges, region: Region): PinnedInRange[] {
  const out: PinnedInRange[] = []
  let after: Uint8Array | undefined
  while (out.length < MAX_SCANNED) {
    const page = ranges.pinnedInRange(
      region.lo,
      region.hi,
      after == null ? { limit: PAGE } : { after, limit: PAGE }
    )
    out.push(...page)
    if (page.length < PAGE) break
    after = page[page.length - 1]!.position
  }
  return out
}

/**
 * Of a region's `entries` (see {@link regionEntries}), the keys that both `a` and `b` should hold
 * (each among the `n` peers of `peers` closest to the key), in position order; at most
 * `MAX_SYNC_KEYS + 1` (one more says "too many"). A sweep reads its region once for every peer.
 */
export function sharedOf(
  entries: readonly PinnedInRange[],
  peers: PeerSet,
  a: string,
  b: string,
  n: number
): PinnedInRange[] {
  const out: PinnedInRange[] = []
  for (const e of entries) {
    if (peers.isTarget(a, e.position, n) && peers.isTarget(b, e.position, n)) {
      out.push(e)
      if (out.length > MAX_SYNC_KEYS) return out
    }
  }
  return out
}

/** {@link sharedOf} the region's entries, read from `ranges`. */
export function sharedSet(
  ranges: PinnedRanges,
  region: Region,
  peers: PeerSet,
  a: string,
  b: string,
  n: number
): PinnedInRange[] {
  return sharedOf(regionEntries(ranges, region), peers, a, b, n)
}

/** The hex of a position's first 16 bytes: how a pair on the wire names a key. */
export const shortPosition = (position: Uint8Array): string => hex(position.subarray(0, PAIR_HALF))

/** Entries by {@link shortPosition}. */
export function byPosition(entries: readonly PinnedInRange[]): Map<string, PinnedInRange> {
  return new Map(entries.map((e) => [shortPosition(e.position), e]))
}

const SAMPLE_DOMAIN = new TextEncoder().encode('CHORUS sweep sampled proof v1\0')
/** Values a summary proof covers (chosen by the verifier's nonce, so they cannot be guessed). */
export const PROOF_SAMPLES = 4

/**
 * Proof that the prover holds the values of a set whose root it claims: SHA-256 over the
 * possession proofs (`proof.ts`) of up to {@link PROOF_SAMPLES} keys picked by SHA-256(nonce ‖ root).
 * Undefined when a sampled value is missing (`readValue` answers undefined for it).
 */
export function sampledProof(
  nonce: Uint8Array,
  root: Uint8Array,
  entries: readonly PinnedInRange[],
  readValue: (entry: PinnedInRange) => Uint8Array | undefined
): Uint8Array | undefined {
  const h = createHash('sha256').update(SAMPLE_DOMAIN).update(nonce)
  if (entries.length > 0) {
    const pick = createHash('sha256').update(nonce).update(root).digest()
    for (let i = 0; i < Math.min(PROOF_SAMPLES, entries.length); i++) {
      const e = entries[pick.readUInt32BE(4 * i) % entries.length]!
      const value = readValue(e)
      if (value == null) return undefined
      h.update(possessionProof(nonce, e.key, value))
    }
  }
  return new Uint8Array(h.update(root).digest())
}
