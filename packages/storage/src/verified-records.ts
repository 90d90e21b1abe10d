/**
 * A bounded memo of records that already decoded and verified (canonical CBOR, recipient stanzas,
 * ciphertext hash, signature), keyed by the SHA-256 of their bytes: a record that reaches a node
 * on several paths (the kad-dht validator, the direct and replicate protocols, read candidates,
 * the chain walk, indexing) is verified once. What it proves depends only on the bytes; the
 * team's write rule, which depends on the policy and the clock, still runs on every check, so a
 * revocation or a new manifest takes effect at once. The memo is also emptied when the authority
 * takes a new manifest (`onManifest`), and by `clear()`. A refusal (malformed, bad hash or
 * signature) is remembered as well, without the record's bytes: the same bad record offered again
 * costs a hash.
 */
import { createHash } from 'node:crypto'
import { copyBytes } from '@chorus/common'
import type { Envelope } from './envelope.js'

export interface VerifiedRecordsInit {
  /**
   * Most bytes the memo holds (4 MiB), the least recently used forgotten first: each record
   * counts its bytes, its key and a fixed overhead (`VERIFIED_RECORD_OVERHEAD`), a remembered
   * refusal its key and the overhead, so many small records are bounded as well as a few large.
   * A record's checks come close together (it arrives, is stored, indexed): 10,000 stores at 16
   * in flight verified each record once with 4 MiB (about 1,500 records of 2.3 KB). A larger memo
   * only grows the node with the records it holds (16 MiB was most of a writer's RSS growth from
   * 1,000 to 20,000 records).
   * @default 4 * 1024 * 1024
   */
  maxBytes?: number
  /**
   * Most records remembered, an optional bound besides `maxBytes`.
   * @default undefined (no bound on entries: the memo is bounded in bytes)
   */
  maxEntries?: number
}

/** The defaults of {@link VerifiedRecordsInit}. */
export const verifiedRecordsDefaults = { maxBytes: 4 * 1024 * 1024 }

/** What a remembered record or refusal costs besides its bytes and its key (objects, map slot). */
export const VERIFIED_RECORD_OVERHEAD = 512

/** Counters of a memo. */
export interface VerifiedRecordsStats {
  /** Records fully decoded and verified, refused ones included (each one signature verification at most). */
  verified: number
  /** Checks answered from the memo (no decoding, no signature verification), refusals included. */
  hits: number
  /** Records remembered now, and their bytes. */
  entries: number
  bytes: number
}

export interface VerifiedRecords {
  /**
   * The envelope of `value` when these bytes verified under `limits` before (a fresh copy), else
   * the result of `verify(value)`, remembered when it returns.
   */
  open(value: Uint8Array, limits: string, verify: (value: Uint8Array) => Envelope): Envelope
  /**
   * Remembers a record this node built and signed itself (its envelope as signed), so the checks
   * its own copies then pass (its record store's validators) find it verified, under any limits.
   */
  vouch(value: Uint8Array, envelope: Envelope): void
  /** Forgets every record (e.g. when the team's policy changes). */
  clear(): void
  stats(): VerifiedRecordsStats
}

const copy = (e: Envelope): Envelope => ({
  ...e,
  metadata: { ...e.metadata, encryptedFor: [...e.metadata.encryptedFor] }
})

// Decoded byte strings may be views of a larger buffer (a request carrying several records, a
// Buffer node:crypto or cborg handed over): the memo keeps its own copies so it never holds more
// than the bytes it counts. (`Buffer#slice` is a view: it kept a 64 KiB buffer per own record.)
const own = (e: Envelope): Envelope => ({
  ...e,
  metadata: {
    ...e.metadata,
    encryptedFor: [...e.metadata.encryptedFor],
    ciphertextHash: copyBytes(e.metadata.ciphertextHash)
  },
  ciphertext: copyBytes(e.ciphertext),
  author: copyBytes(e.author),
  certificate: e.certificate == null ? null : copyBytes(e.certificate),
  previous: e.previous == null ? null : copyBytes(e.previous),
  signature: copyBytes(e.signature)
})

/** The memo's prefix for records this node signed itself (no limits string starts with it). */
const OWN = 'own'

export function createVerifiedRecords(init: VerifiedRecordsInit = {}): VerifiedRecords {
  const maxEntries = init.maxEntries ?? Number.POSITIVE_INFINITY
  const maxBytes = init.maxBytes ?? verifiedRecordsDefaults.maxBytes
  // Map order is use order: the first entry is the least recently used
  // a refusal is remembered too (it depends on the bytes alone), without the bytes
  const entries = new Map<string, { envelope?: Envelope; refusal?: unknown; bytes: number }>()
  let bytes = 0
  let verified = 0
  let hits = 0
  const evict = (): void => {
    for (const [k, v] of entries) {
      if (entries.size <= maxEntries && bytes <= maxBytes) return
      entries.delete(k)
      bytes -= v.bytes
    }
  }
  const remember = (key: string, value: Uint8Array, envelope: Envelope): void => {
    const cost = VERIFIED_RECORD_OVERHEAD + 2 * key.length + value.byteLength
    if (cost <= maxBytes && maxEntries > 0) {
      entries.set(key, { envelope: own(envelope), bytes: cost })
      bytes += cost
      evict()
    }
  }
  const digest = (value: Uint8Array): string => createHash('sha256').update(value).digest('base64')
  return {
    open(value, limits, verify) {
      const hash = digest(value)
      const key = `${limits}/${hash}`
      // this node's own record (vouched for) holds under any limits
      const hit = entries.get(key) ?? entries.get(`${OWN}/${hash}`)
      if (hit !== undefined) {
        const at = entries.has(key) ? key : `${OWN}/${hash}`
        entries.delete(at)
        entries.set(at, hit)
        hits++
        if (hit.envelope === undefined) throw hit.refusal
        return copy(hit.envelope)
      }
      verified++
      let envelope: Envelope
      try {
        envelope = verify(value)
      } catch (err) {
        const cost = VERIFIED_RECORD_OVERHEAD + 2 * key.length
        if (maxEntries > 0 && cost <= maxBytes) {
          entries.set(key, { refusal: err, bytes: cost })
          bytes += cost
          evict()
        }
        throw err
      }
      remember(key, value, envelope)
      return envelope
    },
    vouch(value, envelope) {
      const key = `${OWN}/${digest(value)}`
      if (!entries.has(key)) remember(key, value, envelope)
    },
    clear() {
      entries.clear()
      bytes = 0
    },
    stats: () => ({ verified, hits, entries: entries.size, bytes })
  }
}
