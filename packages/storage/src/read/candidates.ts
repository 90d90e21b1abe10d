import type { Logger } from '@chorus/common'
import type { ReceivedValue } from '@chorus/dht'
import type { ResolvedAddress } from '../address.js'
import { type Envelope, envelopeHash } from '../envelope.js'
import type { LocalIndex } from '../index-db.js'
import { hex } from '../metadata.js'
import type { RecordCheck } from '../record-check.js'

/** One verified envelope as received, with every sender that returned exactly these bytes. */
export interface Candidate {
  envelope: Envelope
  bytes: Uint8Array
  hash: Uint8Array
  hashHex: string
  from: Set<string>
}

/**
 * Every distinct envelope among the values received for `key` that passes the record check (with
 * the team's write rule in team mode), with their senders; the others are dropped.
 */
export function verifyCandidates(
  key: string,
  values: ReceivedValue[],
  check: RecordCheck,
  logger?: Logger
): Candidate[] {
  const byHash = new Map<string, Candidate>()
  for (const { value, from } of values) {
    const hash = envelopeHash(value)
    const hashHex = hex(hash)
    const known = byHash.get(hashHex)
    if (known !== undefined) {
      known.from.add(from)
      continue
    }
    try {
      const envelope = check(key, value)
      byHash.set(hashHex, { envelope, bytes: value, hash, hashHex, from: new Set([from]) })
    } catch (err) {
      logger?.warn({ key, from, reason: (err as Error).message }, 'refused an invalid record from a peer')
    }
  }
  return [...byHash.values()]
}

/**
 * Best candidate first: the higher version; between two copies of one version (an author's
 * equivocation) the one more distinct peers returned, so a lone equivocating or lying peer loses
 * to the replicas; then the lower hash, so every node picks the same one from the same answers.
 */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.envelope.version !== b.envelope.version) return b.envelope.version - a.envelope.version
  if (a.from.size !== b.from.size) return b.from.size - a.from.size
  return Buffer.compare(a.hash, b.hash)
}

/** Whether a candidate fits the versions this node holds (same bytes per version, hash links). */
export function fitsIndex(index: LocalIndex, r: ResolvedAddress, c: Candidate): boolean {
  const same = index.getVersion(r.base, c.envelope.version)
  if (same !== undefined && same.envelope_hash !== c.hashHex) return false
  if (c.envelope.version > 1 && c.envelope.previous !== null) {
    const before = index.getVersion(r.base, c.envelope.version - 1)
    if (before !== undefined && before.envelope_hash !== hex(c.envelope.previous)) return false
  }
  const after = index.getVersion(r.base, c.envelope.version + 1)
  if (after !== undefined && after.previous !== c.hashHex) return false
  return true
}

/**
 * Keeps the candidates that fit what this node knows of the address: the pinned author, and
 * the hashes of versions it already holds (a version with different bytes is a fork; the
 * successor must name its predecessor's hash). Without a pin, the author whose records the
 * most distinct peers returned wins (a single lying peer cannot outvote the replicas).
 */
export function consistent(index: LocalIndex, r: ResolvedAddress, candidates: Candidate[]): Candidate[] {
  const chain = index.getChain(r.base)
  let pool = candidates.filter((c) => fitsIndex(index, r, c))
  if (chain !== undefined) {
    pool = pool.filter((c) => hex(c.envelope.author) === chain.author)
  } else if (pool.length > 1) {
    const support = new Map<string, Set<string>>()
    for (const c of pool) {
      const a = hex(c.envelope.author)
      const s = support.get(a) ?? new Set<string>()
      for (const f of c.from) s.add(f)
      support.set(a, s)
    }
    const ranked = [...support.entries()].sort((x, y) => y[1].size - x[1].size)
    const top = ranked[0]
    const second = ranked[1]
    if (top !== undefined && (second === undefined || top[1].size > second[1].size)) {
      pool = pool.filter((c) => hex(c.envelope.author) === top[0])
    }
  }
  return pool
}
