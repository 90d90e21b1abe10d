/**
 * The `/CHORUS/replicate/1.0.0` wire format: one CBOR request, one CBOR response.
 *
 *   replicate request { v: 1, key: string, value: bytes, priority: int, holders?: string[] }
 *                     (holders: the peers the sender knows hold the key; the receiver takes them
 *                      as candidates to challenge, never as holders)
 *   prove request     { v: 1, op: 'prove', key: string, nonce: bytes(32), digest: bytes(32) }
 *                     (proof of possession: digest is SHA-256 of the value the verifier holds;
 *                      the holder answers with `possessionProof(nonce, key, its value)`)
 *   ping request      { v: 1, op: 'ping' }   (liveness: libp2p's own ping service allows only one
 *                                              outbound and two inbound streams per connection,
 *                                              which kad-dht's routing table also uses)
 *   sync, sync-leaves, sync-records: the sweep's anti-entropy exchange (`sweep/wire.ts`)
 *   response          { v: 1, ok: true, proof?: bytes(32), sync?: map } | { v: 1, ok: false, code, reason }
 *
 * {@link parseRequest} is the edge: every inbound request is decoded and bound-checked there
 * once, and the handlers get a well-formed request. A refusal carries a code and the fixed text
 * of {@link REFUSAL_TEXT}: nothing of the request, of a validator or of the store goes back.
 */

import { InvalidInputError } from '@chorus/common'
import { decode, encode } from 'cborg'
import { MalformedRequestError, REPLICATION_ERROR_CODES, type RefusalCode } from './errors.js'
import {
  decodeSyncRequest,
  encodeSyncReply,
  SYNC_OPS,
  type SyncReply,
  type SyncRequest,
  syncValueBytes
} from './sweep/wire.js'

export const REPLICATE_PROTOCOL_SUFFIX = '/replicate/1.0.0'
export const WIRE_VERSION = 1
/** Bytes a request may carry beyond the value (key, priority, holders, CBOR framing). */
export const REQUEST_OVERHEAD_BYTES = 16 * 1024
/** Largest response this node reads (a response is a few dozen bytes). */
export const MAX_RESPONSE_BYTES = 64 * 1024
/** Largest response to a ping this node reads. */
export const MAX_PING_RESPONSE_BYTES = 1024
/** Longest key accepted, in characters (CHORUS keys are well under 200). */
export const MAX_KEY_LENGTH = 1024
/** Bytes of a proof nonce, of a value digest and of a proof (SHA-256). */
export const NONCE_BYTES = 32
export const DIGEST_BYTES = 32

export interface ReplicateRequest {
  key: string
  value: Uint8Array
  priority: number
  /** Peer ids the sender knows hold the key (the sender included). Default: none. */
  holders?: string[]
}

/** At most this many holder ids travel in one request. */
export const MAX_HOLDERS = 32

export interface PingRequest {
  op: 'ping'
}

/** A challenge: prove that you hold the value whose SHA-256 is `digest`. */
export interface ProveRequest {
  op: 'prove'
  key: string
  /** Fresh random bytes, so that an answer cannot be replayed or computed in advance. */
  nonce: Uint8Array
  /** SHA-256 of the value the verifier holds. */
  digest: Uint8Array
}

export type Refusal = { ok: false; code: RefusalCode; reason: string }
export type ReplicateResponse = { ok: true; proof?: Uint8Array; sync?: SyncReply } | Refusal

/** The one text sent with each refusal code. */
export const REFUSAL_TEXT: Readonly<Record<RefusalCode, string>> = Object.freeze({
  MALFORMED_REQUEST: 'the request is not a well-formed replicate, prove or ping request',
  TOO_LARGE: 'the value is larger than this node accepts',
  INVALID_RECORD: 'the record validator refused the record',
  STORE_FAILED: 'this node could not store the record',
  NOT_ACCEPTING: 'this node does not accept requests now',
  NOT_A_TARGET: 'this node is not among the holders of this key',
  QUOTA: 'this node holds as many records of the sender, or of all peers, as it accepts',
  STALE: 'this node holds a record for the key that the pushed one does not succeed',
  EQUIVOCATION: 'the record contradicts the one this node holds',
  RATE_LIMITED: 'too many requests from the sender; try again later',
  BUSY: "this node is busy with the sender's requests; try again shortly",
  NOT_HELD: 'this node does not hold the key',
  OTHER_VALUE: 'this node holds another value for the key',
  NO_SESSION: 'this node has no sync session of the sender for the request'
})

/** A refusal with its fixed text. */
export function refusal(code: RefusalCode): Refusal {
  return { ok: false, code, reason: REFUSAL_TEXT[code] }
}

function isRefusalCode(code: unknown): code is RefusalCode {
  return typeof code === 'string' && Object.hasOwn(REFUSAL_TEXT, code)
}

export function encodeRequest(req: ReplicateRequest): Uint8Array {
  const msg: Record<string, unknown> = {
    v: WIRE_VERSION,
    key: req.key,
    value: req.value,
    priority: req.priority
  }
  if (req.holders != null && req.holders.length > 0) msg.holders = req.holders.slice(0, MAX_HOLDERS)
  return encode(msg)
}

export function encodePing(): Uint8Array {
  return encode({ v: WIRE_VERSION, op: 'ping' })
}

export function encodeProve(req: Omit<ProveRequest, 'op'>): Uint8Array {
  return encode({ v: WIRE_VERSION, op: 'prove', key: req.key, nonce: req.nonce, digest: req.digest })
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || !key.startsWith('/') || key.length > MAX_KEY_LENGTH) {
    throw new MalformedRequestError(
      `key must be a string starting with / of at most ${MAX_KEY_LENGTH} characters`
    )
  }
  return key
}

function checkBytes(v: unknown, length: number, field: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.byteLength !== length) {
    throw new MalformedRequestError(`${field} must be ${length} bytes`)
  }
  return v
}

/**
 * Decodes a request; throws `MalformedRequestError` when malformed. Its messages are fixed
 * (they name the field, never repeat what the peer sent) and stay on this node.
 */
export function decodeRequest(
  bytes: Uint8Array
): ReplicateRequest | PingRequest | ProveRequest | SyncRequest {
  let msg: unknown
  try {
    msg = decode(bytes)
  } catch {
    throw new MalformedRequestError('request is not valid CBOR')
  }
  if (msg == null || typeof msg !== 'object') throw new MalformedRequestError('request is not a CBOR map')
  const m = msg as Record<string, unknown>
  if (m.v !== WIRE_VERSION) throw new MalformedRequestError('unsupported wire version')
  if (m.op === 'ping') return { op: 'ping' }
  if (SYNC_OPS.has(m.op)) return decodeSyncRequest(m)
  if (m.op === 'prove') {
    return {
      op: 'prove',
      key: checkKey(m.key),
      nonce: checkBytes(m.nonce, NONCE_BYTES, 'nonce'),
      digest: checkBytes(m.digest, DIGEST_BYTES, 'digest')
    }
  }
  if (m.op !== undefined && m.op !== 'replicate') throw new MalformedRequestError('unknown operation')
  const key = checkKey(m.key)
  if (!(m.value instanceof Uint8Array)) throw new MalformedRequestError('value must be a byte string')
  const priority = typeof m.priority === 'number' && Number.isInteger(m.priority) ? m.priority : 0
  const req: ReplicateRequest = { key, value: m.value, priority }
  if (m.holders !== undefined) {
    if (
      !Array.isArray(m.holders) ||
      m.holders.length > MAX_HOLDERS ||
      !m.holders.every((h) => typeof h === 'string' && h.length > 0 && h.length < 128)
    ) {
      throw new MalformedRequestError(`holders must be a list of at most ${MAX_HOLDERS} peer ids`)
    }
    req.holders = m.holders as string[]
  }
  return req
}

/** An inbound request after the edge: decoded, well-formed and within bounds. */
export type InboundRequest =
  | PingRequest
  | ProveRequest
  | SyncRequest
  | ({ op: 'replicate' } & ReplicateRequest)

/**
 * The edge of the protocol: decodes `bytes` and checks the value against `maxRecordBytes`.
 * Returns the request, or the refusal to send back.
 */
export function parseRequest(bytes: Uint8Array, maxRecordBytes: number): InboundRequest | Refusal {
  let req: ReplicateRequest | PingRequest | ProveRequest | SyncRequest
  try {
    req = decodeRequest(bytes)
  } catch {
    return refusal('MALFORMED_REQUEST')
  }
  if ('op' in req) return syncValueBytes(req as SyncRequest) > maxRecordBytes ? refusal('TOO_LARGE') : req
  if (req.value.byteLength > maxRecordBytes) return refusal('TOO_LARGE')
  return { op: 'replicate', ...req }
}

export function encodeResponse(res: ReplicateResponse): Uint8Array {
  if (!res.ok) return encode({ v: WIRE_VERSION, ok: false, code: res.code, reason: res.reason })
  if (res.sync != null) return encode({ v: WIRE_VERSION, ok: true, sync: encodeSyncReply(res.sync) })
  return encode(
    res.proof == null ? { v: WIRE_VERSION, ok: true } : { v: WIRE_VERSION, ok: true, proof: res.proof }
  )
}

const malformedResponse = (reason: string): InvalidInputError =>
  new InvalidInputError('response', reason, { code: REPLICATION_ERROR_CODES.PROTOCOL })

/**
 * Decodes a peer's response. A refusal is given this node's own text for its code (what the
 * peer wrote is not kept); an unknown code reads as `NOT_ACCEPTING`.
 */
export function decodeResponse(bytes: Uint8Array): ReplicateResponse {
  let m: Record<string, unknown> | null
  try {
    m = decode(bytes) as Record<string, unknown> | null
  } catch {
    throw malformedResponse('not valid CBOR')
  }
  if (m == null || typeof m !== 'object' || typeof m.ok !== 'boolean')
    throw malformedResponse('not a response map')
  if (!m.ok) return refusal(isRefusalCode(m.code) ? m.code : 'NOT_ACCEPTING')
  if (m.proof === undefined) return { ok: true }
  if (!(m.proof instanceof Uint8Array) || m.proof.byteLength !== DIGEST_BYTES) {
    throw malformedResponse(`proof must be ${DIGEST_BYTES} bytes`)
  }
  return { ok: true, proof: m.proof }
}
