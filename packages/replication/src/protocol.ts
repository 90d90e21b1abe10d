/**
 * The `/CHORUS/replicate/1.0.0` wire format: one CBOR request, one CBOR response.
 *
 *   replicate request { v: 1, key: string, value: bytes, priority: int, holders?: string[] }
 *                     (holders: the peers the sender knows hold the key, so that the receiver
 *                      knows its co-holders without a DHT lookup)
 *   ping request      { v: 1, op: 'ping' }   (liveness: libp2p's own ping service allows only one
 *                                              outbound and two inbound streams per connection,
 *                                              which kad-dht's routing table also uses)
 *   response          { v: 1, ok: true } | { v: 1, ok: false, code: RefusalCode, reason: string }
 *
 * {@link parseRequest} is the edge: every inbound request is decoded and bound-checked there
 * once, and the handlers get a well-formed request.
 */

import { InvalidInputError } from '@chorus/common'
import { decode, encode } from 'cborg'
import { MalformedRequestError, REPLICATION_ERROR_CODES, type RefusalCode } from './errors.js'

export const REPLICATE_PROTOCOL_SUFFIX = '/replicate/1.0.0'
export const WIRE_VERSION = 1
/** Bytes a request may carry beyond the value (key, priority, CBOR framing). */
export const REQUEST_OVERHEAD_BYTES = 16 * 1024
/** Largest response this node reads (a response is a few dozen bytes). */
export const MAX_RESPONSE_BYTES = 64 * 1024
/** Largest response to a ping this node reads. */
export const MAX_PING_RESPONSE_BYTES = 1024

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

export type Refusal = { ok: false; code: RefusalCode; reason: string }
export type ReplicateResponse = { ok: true } | Refusal

const REFUSALS: ReadonlySet<string> = new Set([
  'MALFORMED_REQUEST',
  'TOO_LARGE',
  'INVALID_RECORD',
  'STORE_FAILED',
  'NOT_ACCEPTING'
])

export function refusal(code: RefusalCode, reason: string): Refusal {
  return { ok: false, code, reason }
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

/** Decodes a request; throws `MalformedRequestError` (its message is the refusal reason) when malformed. */
export function decodeRequest(bytes: Uint8Array): ReplicateRequest | PingRequest {
  let msg: unknown
  try {
    msg = decode(bytes)
  } catch {
    throw new MalformedRequestError('request is not valid CBOR')
  }
  if (msg == null || typeof msg !== 'object') throw new MalformedRequestError('request is not a CBOR map')
  const m = msg as Record<string, unknown>
  if (m.v !== WIRE_VERSION) throw new MalformedRequestError(`unsupported wire version ${String(m.v)}`)
  if (m.op === 'ping') return { op: 'ping' }
  if (m.op !== undefined && m.op !== 'replicate') {
    throw new MalformedRequestError(`unknown operation ${String(m.op)}`)
  }
  if (typeof m.key !== 'string' || m.key.length === 0 || !m.key.startsWith('/')) {
    throw new MalformedRequestError('key must be a non-empty string starting with /')
  }
  if (!(m.value instanceof Uint8Array)) throw new MalformedRequestError('value must be a byte string')
  const priority = typeof m.priority === 'number' && Number.isInteger(m.priority) ? m.priority : 0
  const req: ReplicateRequest = { key: m.key, value: m.value, priority }
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
export type InboundRequest = PingRequest | ({ op: 'replicate' } & ReplicateRequest)

/**
 * The edge of the protocol: decodes `bytes` and checks the value against `maxRecordBytes`.
 * Returns the request, or the refusal to send back.
 */
export function parseRequest(bytes: Uint8Array, maxRecordBytes: number): InboundRequest | Refusal {
  let req: ReplicateRequest | PingRequest
  try {
    req = decodeRequest(bytes)
  } catch (err) {
    return refusal(
      'MALFORMED_REQUEST',
      MalformedRequestError.isInstance(err) ? err.message : 'malformed request'
    )
  }
  if ('op' in req) return req
  if (req.value.byteLength > maxRecordBytes) {
    return refusal(
      'TOO_LARGE',
      `value is ${req.value.byteLength} bytes; this node accepts at most ${maxRecordBytes}`
    )
  }
  return { op: 'replicate', ...req }
}

export function encodeResponse(res: ReplicateResponse): Uint8Array {
  return encode(res.ok ? { v: WIRE_VERSION, ok: true } : { v: WIRE_VERSION, ...res })
}

export function decodeResponse(bytes: Uint8Array): ReplicateResponse {
  const m = decode(bytes) as Record<string, unknown> | null
  if (m == null || typeof m !== 'object' || typeof m.ok !== 'boolean') {
    throw new InvalidInputError('response', 'not a response map', { code: REPLICATION_ERROR_CODES.PROTOCOL })
  }
  if (m.ok) return { ok: true }
  const code = typeof m.code === 'string' && REFUSALS.has(m.code) ? (m.code as RefusalCode) : 'NOT_ACCEPTING'
  const reason = typeof m.reason === 'string' ? m.reason : 'no reason given'
  return { ok: false, code, reason }
}
