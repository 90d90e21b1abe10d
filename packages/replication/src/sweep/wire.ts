/**
 * The sweep's messages on `/CHORUS/replicate/1.0.0` (CBOR, as the other requests), decoded and
 * bounded here once; `protocol.ts`'s edge calls {@link decodeSyncRequest} for their ops.
 *
 *   summary  { v, op: 'sync', prefix: bytes, bits, peers: string[], depth, count, root: bytes(32),
 *              nonce: bytes(32) }
 *            → { ok, sync: { match: true, proof: bytes(32) } | { match: false, leaves: bytes } }
 *   leaves   { v, op: 'sync-leaves', prefix, bits, peers, depth, leaves: [[index, bytes(n × 32)]] }
 *            (each leaf's sorted (position, digest) pairs of the sender, 16 bytes of each)
 *            → { ok, sync: { session: bytes(16), want: int[] } }   (indices into the pairs sent)
 *   records  { v, op: 'sync-records', session: bytes(16), records: [[key, value, priority]], final }
 *            → { ok, sync: { accepted: int, refused: [[index, code]] } }
 *
 * Bounds: at most {@link MAX_SYNC_KEYS} keys or pairs a message, {@link MAX_SYNC_PEERS} peers,
 * 2^{@link MAX_DEPTH} leaves, a prefix of at most {@link MAX_PREFIX_BITS} bits, and the record
 * values of one message at most `maxRecordBytes` together (checked by the edge).
 */
import { decode, encode } from 'cborg'
import { MalformedRequestError, type RefusalCode } from '../errors.js'
import { HASH_BYTES, MAX_DEPTH, MAX_PREFIX_BITS } from './keyspace.js'

/** Keys (or pairs) one sync message carries at most. */
export const MAX_SYNC_KEYS = 4096
/** Peers of a lookup a sync message names at most. */
export const MAX_SYNC_PEERS = 32
export const SESSION_BYTES = 16
/**
 * A pair on the wire: the first 16 bytes of the position and of the value digest (128 bits each:
 * no accidental collision, no feasible second preimage), half of the full 64.
 */
export const PAIR_HALF = 16
const PAIR_BYTES = 2 * PAIR_HALF
const WIRE_VERSION = 1
const MAX_KEY_LENGTH = 1024

export interface SyncScope {
  prefix: Uint8Array
  bits: number
  /** The lookup's peer set (the sender and the receiver among them). */
  peers: string[]
  depth: number
}

export interface SyncSummaryRequest extends SyncScope {
  op: 'sync'
  count: number
  root: Uint8Array
  nonce: Uint8Array
}

export interface SyncLeavesRequest extends SyncScope {
  op: 'sync-leaves'
  /** [leaf index, that leaf's pairs (position ‖ digest)...] */
  leaves: Array<[number, Uint8Array]>
}

export interface SyncRecord {
  key: string
  value: Uint8Array
  priority: number
}

export interface SyncRecordsRequest {
  op: 'sync-records'
  session: Uint8Array
  records: SyncRecord[]
  final: boolean
}

export type SyncRequest = SyncSummaryRequest | SyncLeavesRequest | SyncRecordsRequest

export type SyncReply =
  | { match: true; proof: Uint8Array }
  | { match: false; leaves: Uint8Array }
  | { session: Uint8Array; want: number[] }
  | { accepted: number; refused: Array<[number, RefusalCode]> }

export const SYNC_OPS: ReadonlySet<unknown> = new Set(['sync', 'sync-leaves', 'sync-records'])

const bad = (reason: string): MalformedRequestError => new MalformedRequestError(reason)

function int(v: unknown, max: number, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw bad(`${field} out of range`)
  return v
}

function fixed(v: unknown, length: number, field: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.byteLength !== length) throw bad(`${field} must be ${length} bytes`)
  return v
}

function scope(m: Record<string, unknown>): SyncScope {
  const bits = int(m.bits, MAX_PREFIX_BITS, 'bits')
  const prefix = fixed(m.prefix, Math.ceil(bits / 8), 'prefix')
  const depth = int(m.depth, MAX_DEPTH, 'depth')
  if (
    !Array.isArray(m.peers) ||
    m.peers.length > MAX_SYNC_PEERS ||
    !m.peers.every((p) => typeof p === 'string' && p.length > 0 && p.length < 128)
  ) {
    throw bad(`peers must be a list of at most ${MAX_SYNC_PEERS} peer ids`)
  }
  return { prefix, bits, depth, peers: m.peers as string[] }
}

/** Decodes a sync request map (its `op` is one of {@link SYNC_OPS}); throws `MalformedRequestError`. */
export function decodeSyncRequest(m: Record<string, unknown>): SyncRequest {
  if (m.op === 'sync') {
    return {
      op: 'sync',
      ...scope(m),
      count: int(m.count, MAX_SYNC_KEYS, 'count'),
      root: fixed(m.root, HASH_BYTES, 'root'),
      nonce: fixed(m.nonce, HASH_BYTES, 'nonce')
    }
  }
  if (m.op === 'sync-leaves') {
    const s = scope(m)
    if (!Array.isArray(m.leaves) || m.leaves.length > 1 << s.depth) throw bad('leaves out of range')
    let pairs = 0
    let last = -1
    const leaves: Array<[number, Uint8Array]> = []
    for (const l of m.leaves as unknown[]) {
      if (!Array.isArray(l) || l.length !== 2) throw bad('a leaf must be [index, pairs]')
      const index = int(l[0], (1 << s.depth) - 1, 'leaf index')
      if (index <= last) throw bad('leaves must be in ascending order')
      last = index
      const list = l[1]
      if (!(list instanceof Uint8Array) || list.byteLength % PAIR_BYTES !== 0) throw bad('bad leaf pairs')
      pairs += list.byteLength / PAIR_BYTES
      if (pairs > MAX_SYNC_KEYS) throw bad(`at most ${MAX_SYNC_KEYS} pairs a message`)
      leaves.push([index, list])
    }
    return { op: 'sync-leaves', ...s, leaves }
  }
  if (m.op === 'sync-records') {
    const session = fixed(m.session, SESSION_BYTES, 'session')
    if (!Array.isArray(m.records) || m.records.length > MAX_SYNC_KEYS) throw bad('records out of range')
    const records: SyncRecord[] = []
    for (const r of m.records as unknown[]) {
      if (!Array.isArray(r) || r.length !== 3) throw bad('a record must be [key, value, priority]')
      const [key, value, priority] = r as [unknown, unknown, unknown]
      if (typeof key !== 'string' || !key.startsWith('/') || key.length > MAX_KEY_LENGTH) throw bad('bad key')
      if (!(value instanceof Uint8Array)) throw bad('value must be a byte string')
      records.push({
        key,
        value,
        priority: typeof priority === 'number' && Number.isInteger(priority) ? priority : 0
      })
    }
    return { op: 'sync-records', session, records, final: m.final === true }
  }
  throw bad('unknown operation')
}

/** Bytes of record values a request carries (what the edge bounds and the byte bucket charges). */
export function syncValueBytes(req: SyncRequest): number {
  return req.op === 'sync-records' ? req.records.reduce((n, r) => n + r.value.byteLength, 0) : 0
}

export function encodeSyncRequest(req: SyncRequest): Uint8Array {
  const base = { v: WIRE_VERSION, op: req.op }
  if (req.op === 'sync-records') {
    return encode({
      ...base,
      session: req.session,
      records: req.records.map((r) => [r.key, r.value, r.priority]),
      final: req.final
    })
  }
  const s = { prefix: req.prefix, bits: req.bits, peers: req.peers, depth: req.depth }
  if (req.op === 'sync') return encode({ ...base, ...s, count: req.count, root: req.root, nonce: req.nonce })
  return encode({ ...base, ...s, leaves: req.leaves })
}

/** The `sync` field of a response, as sent. */
export function encodeSyncReply(reply: SyncReply): Record<string, unknown> {
  return { ...reply }
}

const badReply = (): Error => new Error('malformed sync reply')

/** Decodes the `sync` reply of a response to a request of `op`; throws on anything out of shape. */
export function decodeSyncReply(op: SyncRequest['op'], sync: unknown, depth = 0): SyncReply {
  if (sync == null || typeof sync !== 'object') throw badReply()
  const m = sync as Record<string, unknown>
  if (op === 'sync') {
    if (m.match === true && m.proof instanceof Uint8Array && m.proof.byteLength === HASH_BYTES) {
      return { match: true, proof: m.proof }
    }
    if (
      m.match === false &&
      m.leaves instanceof Uint8Array &&
      m.leaves.byteLength === (1 << depth) * HASH_BYTES
    ) {
      return { match: false, leaves: m.leaves }
    }
    throw badReply()
  }
  if (op === 'sync-leaves') {
    if (!(m.session instanceof Uint8Array) || m.session.byteLength !== SESSION_BYTES) throw badReply()
    if (!Array.isArray(m.want) || m.want.length > MAX_SYNC_KEYS) throw badReply()
    if (!m.want.every((i) => Number.isInteger(i) && i >= 0 && i < MAX_SYNC_KEYS)) throw badReply()
    return { session: m.session, want: m.want as number[] }
  }
  if (typeof m.accepted !== 'number' || !Array.isArray(m.refused) || m.refused.length > MAX_SYNC_KEYS) {
    throw badReply()
  }
  return { accepted: m.accepted, refused: m.refused as Array<[number, RefusalCode]> }
}

/** Decodes a whole response to a sync request: the reply, or the refusal code. */
export function decodeSyncResponse(
  op: SyncRequest['op'],
  bytes: Uint8Array,
  depth = 0
): { ok: true; sync: SyncReply } | { ok: false; code: string } {
  let m: Record<string, unknown>
  try {
    m = decode(bytes) as Record<string, unknown>
  } catch {
    throw badReply()
  }
  if (m == null || typeof m !== 'object' || typeof m.ok !== 'boolean') throw badReply()
  if (!m.ok) return { ok: false, code: typeof m.code === 'string' ? m.code.slice(0, 32) : 'NOT_ACCEPTING' }
  return { ok: true, sync: decodeSyncReply(op, m.sync, depth) }
}

/** Pairs (position ‖ digest, 16 bytes of each) packed as one byte string. */
export function packPairs(entries: ReadonlyArray<{ position: Uint8Array; digest: Uint8Array }>): Uint8Array {
  const out = new Uint8Array(entries.length * PAIR_BYTES)
  entries.forEach((e, i) => {
    out.set(e.position.subarray(0, PAIR_HALF), i * PAIR_BYTES)
    out.set(e.digest.subarray(0, PAIR_HALF), i * PAIR_BYTES + PAIR_HALF)
  })
  return out
}

export function unpackPairs(bytes: Uint8Array): Array<{ position: Uint8Array; digest: Uint8Array }> {
  const out: Array<{ position: Uint8Array; digest: Uint8Array }> = []
  for (let o = 0; o < bytes.byteLength; o += PAIR_BYTES) {
    out.push({
      position: bytes.subarray(o, o + PAIR_HALF),
      digest: bytes.subarray(o + PAIR_HALF, o + PAIR_BYTES)
    })
  }
  return out
}
