/**
 * The direct record protocol: a writer hands its envelope straight to the peers closest to the
 * key among those it is connected to (no iterative Kademlia lookup), and a reader asks the same
 * peers. The full kad-dht put runs in the background; the full query is the reader's fallback.
 *
 * One CBOR request, one CBOR response (PeerMessaging frames them):
 *   { op: 'put', records: [{ key, value }, ...] }  ->  { ok: true } | { ok: false, code, error }
 *                                                     | { ok: false, code: 'BUSY', error, retryAfterMs }
 *   { op: 'batch', items: [{ keys, value }, ...] } ->  { results: [{ ok: true } | { ok: false, code, error }, ...] }
 *                                                     | { ok: false, code: 'BUSY', error, retryAfterMs }
 *   { op: 'get', key }                             ->  { value: bytes | null }
 * A batch carries the stores a writer has for one peer at once (see `PushBatcher`), each one value
 * under its keys (a store's version and head records are the same bytes, sent once), and is
 * answered with one result per item, in order; `put` is the single-store form older writers send.
 * A peer checks every record (the record check with the team's write rule, then the succession
 * rule against the record it holds) and writes it into its own kad-dht record store
 * (`putValue(..., { localOnly: true })`), so it answers kad GET_VALUE for it as well. A refusal
 * carries a code and that code's fixed text, never the peer's input or a validator's message.
 *
 * This file holds the wire format: the codec and the one decoder of requests (with its bounds),
 * which runs at the edge before any handler.
 */
import { STRICT_CBOR_DECODE_OPTIONS } from '@chorus/common'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../envelope.js'

/** Protocol id (under the CHORUS protocol prefix). */
export const RECORD_PROTOCOL = '/CHORUS/storage/records/1.0.0'
/** Largest request: two envelopes and their keys. */
export const MAX_REQUEST_BYTES = 2 * DEFAULT_MAX_ENVELOPE_BYTES + 4096
/** Most records in one put request. */
export const MAX_RECORDS = 4
/** Largest response to a put. */
export const MAX_PUT_RESPONSE_BYTES = 4096
/** Most items (one value under 1 to {@link MAX_RECORDS} keys) in one batch. */
export const MAX_BATCH_ITEMS = 64
/** Longest key accepted in a request, in characters (record keys are far shorter). */
export const MAX_KEY_LENGTH = 1024
/** Largest response to a batch: a refusal for every item. */
export const MAX_BATCH_RESPONSE_BYTES = MAX_BATCH_ITEMS * 96 + 64
/** Largest response to a get: one envelope. */
export const MAX_GET_RESPONSE_BYTES = DEFAULT_MAX_ENVELOPE_BYTES + 1024

/** One record as the protocol carries it. */
export interface DirectRecord {
  key: string
  value: Uint8Array
}

export interface PutRequest {
  op: 'put'
  /** 1 to {@link MAX_RECORDS} records. */
  records: DirectRecord[]
}

export interface GetRequest {
  op: 'get'
  key: string
}

/** One value stored under each of its keys (a store's version and head records). */
export interface BatchItem {
  /** 1 to {@link MAX_RECORDS} keys. */
  keys: string[]
  value: Uint8Array
}

export interface BatchRequest {
  op: 'batch'
  /** 1 to {@link MAX_BATCH_ITEMS} items. */
  items: BatchItem[]
}

export type RecordRequest = PutRequest | GetRequest | BatchRequest

/** Why a peer refused a request; each code has one fixed text ({@link REFUSAL_TEXT}). */
export const REFUSAL_CODES = {
  /** The request did not decode or is out of bounds. */
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  /** A record failed the record check (format, hash, signature, key, or the write rule). */
  INVALID_RECORD: 'INVALID_RECORD',
  /** A record is older than the one held (no fault of the sender). */
  STALE_RECORD: 'STALE_RECORD',
  /** A record contradicts the valid one held (another copy of a version, a fork of the chain). */
  EQUIVOCATION: 'EQUIVOCATION',
  /** The record store did not take the record. */
  NOT_STORED: 'NOT_STORED',
  /**
   * The peer is saturated (its direct puts in progress are at their bound): nothing was checked
   * or stored, and the sender should send the same records again after `retryAfterMs`. Not a
   * refusal of the records: a writer waits and retries instead of counting it against its quorum.
   */
  BUSY: 'BUSY'
} as const
export type RefusalCode = (typeof REFUSAL_CODES)[keyof typeof REFUSAL_CODES]

/** The one text sent with each refusal code. */
export const REFUSAL_TEXT: Record<RefusalCode, string> = {
  MALFORMED_REQUEST: 'malformed request',
  INVALID_RECORD: 'the record failed validation',
  STALE_RECORD: 'the record is older than the one held',
  EQUIVOCATION: 'the record contradicts the one held',
  NOT_STORED: 'the record was not stored',
  BUSY: 'busy, retry later'
}

/** The longest wait a BUSY answer may ask for, in ms (a longer one is read as this). */
export const MAX_RETRY_AFTER_MS = 2_000

export type PutResponse =
  | { ok: true }
  | { ok: false; code: RefusalCode; error: string; retryAfterMs?: number }

/** The BUSY answer: retry after `retryAfterMs` (1 to {@link MAX_RETRY_AFTER_MS}). */
export function busy(retryAfterMs: number): { ok: false; code: 'BUSY'; error: string; retryAfterMs: number } {
  return {
    ok: false,
    code: REFUSAL_CODES.BUSY,
    error: REFUSAL_TEXT.BUSY,
    retryAfterMs: retryAfterOf(retryAfterMs)
  }
}

/** A retry-after from a peer, bounded to 1..{@link MAX_RETRY_AFTER_MS} ms (not a number: 100 ms). */
function retryAfterOf(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 100
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(1, Math.round(v)))
}

/** The refusal answer of `code`. */
export function refusal(code: RefusalCode): { ok: false; code: RefusalCode; error: string } {
  return { ok: false, code, error: REFUSAL_TEXT[code] }
}

/**
 * Reads a put answer from a peer: `{ ok: true }`, its refusal code (`NOT_STORED` when the answer
 * names none this node knows), or BUSY with its retry-after (bounded).
 */
export function parsePutResponse(m: unknown): PutResponse {
  const r = m as { ok?: unknown; code?: unknown; retryAfterMs?: unknown } | null
  if (r?.ok === true) return { ok: true }
  if (r?.code === REFUSAL_CODES.BUSY) return busy(retryAfterOf(r.retryAfterMs))
  const code =
    typeof r?.code === 'string' && Object.hasOwn(REFUSAL_TEXT, r.code)
      ? (r.code as RefusalCode)
      : REFUSAL_CODES.NOT_STORED
  return refusal(code)
}

/**
 * Reads a batch answer from a peer: one put answer per item (see {@link parsePutResponse}); a
 * BUSY answer for the whole batch is BUSY for every item, and an answer without a result for
 * every item counts as `NOT_STORED` for those it lacks.
 */
export function parseBatchResponse(m: unknown, items: number): PutResponse[] {
  const r = m as { ok?: unknown; code?: unknown; results?: unknown } | null
  if (r?.ok === false && r.code === REFUSAL_CODES.BUSY) {
    const answer = parsePutResponse(r)
    return Array.from({ length: items }, () => answer)
  }
  const results = Array.isArray(r?.results) ? r.results : []
  return Array.from({ length: items }, (_, i) =>
    i < results.length ? parsePutResponse(results[i]) : refusal(REFUSAL_CODES.NOT_STORED)
  )
}

export interface GetResponse {
  value: Uint8Array | null
}

/** Canonical CBOR (RFC 8949) of a message. */
export function encodeMessage(m: unknown): Uint8Array {
  return encode(m, rfc8949EncodeOptions)
}

/** Decodes one message with {@link STRICT_CBOR_DECODE_OPTIONS}. */
export function decodeMessage(bytes: Uint8Array): unknown {
  return decode(bytes, STRICT_CBOR_DECODE_OPTIONS)
}

const isKey = (k: unknown): k is string => typeof k === 'string' && k.length <= MAX_KEY_LENGTH

/**
 * Decodes and bound-checks a request: at most {@link MAX_REQUEST_BYTES}, a map with a known `op`,
 * a string key, 1 to {@link MAX_RECORDS} records of a string key and a byte string value, or 1 to
 * {@link MAX_BATCH_ITEMS} items of 1 to {@link MAX_RECORDS} string keys and a byte string value.
 * Throws an Error with a fixed reason otherwise.
 */
export function decodeRequest(bytes: Uint8Array): RecordRequest {
  if (bytes.byteLength > MAX_REQUEST_BYTES) throw new Error('request is too large')
  const m = decodeMessage(bytes) as Record<string, unknown>
  if (m === null || typeof m !== 'object') throw new Error('request is not a map')
  if (m.op === 'get' && typeof m.key === 'string') return { op: 'get', key: m.key }
  if (m.op === 'put' && Array.isArray(m.records) && m.records.length > 0 && m.records.length <= MAX_RECORDS) {
    const records = m.records.map((r: unknown) => {
      const rec = r as Record<string, unknown>
      if (!isKey(rec?.key) || !(rec.value instanceof Uint8Array)) throw new Error('bad record')
      return { key: rec.key, value: rec.value }
    })
    return { op: 'put', records }
  }
  if (m.op === 'batch' && Array.isArray(m.items) && m.items.length > 0 && m.items.length <= MAX_BATCH_ITEMS) {
    const items = m.items.map((x: unknown) => {
      const item = x as Record<string, unknown>
      const keys = item?.keys
      if (
        !Array.isArray(keys) ||
        keys.length === 0 ||
        keys.length > MAX_RECORDS ||
        !keys.every(isKey) ||
        !(item.value instanceof Uint8Array)
      )
        throw new Error('bad item')
      return { keys: [...new Set(keys)], value: item.value }
    })
    return { op: 'batch', items }
  }
  throw new Error('unknown request')
}
