/**
 * The direct record protocol: a writer hands its envelope straight to the peers closest to the
 * key among those it is connected to (no iterative Kademlia lookup), and a reader asks the same
 * peers. The full kad-dht put runs in the background; the full query is the reader's fallback.
 *
 * One CBOR request, one CBOR response (PeerMessaging frames them):
 *   { op: 'put', records: [{ key, value }, ...] }  ->  { ok: true } | { ok: false, error }
 *   { op: 'get', key }                             ->  { value: bytes | null }
 * A peer validates every record with the CHORUS rules and writes it into its own kad-dht record
 * store (`putValue(..., { localOnly: true })`), so it answers kad GET_VALUE for it as well.
 */
import type { Dht, Logger, PeerMessaging } from '@chorus/dht'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { parseRecordKey } from './address.js'
import { DEFAULT_MAX_ENVELOPE_BYTES, type Envelope, envelopeHash } from './envelope.js'
import { validateChorusRecord } from './records.js'

/** Protocol id (under the CHORUS protocol prefix). */
export const RECORD_PROTOCOL = '/CHORUS/storage/records/1.0.0'
/** Largest request: two envelopes and their keys. */
export const MAX_REQUEST_BYTES = 2 * DEFAULT_MAX_ENVELOPE_BYTES + 4096
const MAX_RECORDS = 4

export interface DirectRecord {
  key: string
  value: Uint8Array
}

type Request = { op: 'put'; records: DirectRecord[] } | { op: 'get'; key: string }

const DECODE = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  tags: []
}

export function encodeMessage(m: unknown): Uint8Array {
  return encode(m, rfc8949EncodeOptions)
}

function parseRequest(bytes: Uint8Array): Request {
  const m = decode(bytes, DECODE) as Record<string, unknown>
  if (m === null || typeof m !== 'object') throw new Error('request is not a map')
  if (m.op === 'get' && typeof m.key === 'string') return { op: 'get', key: m.key }
  if (m.op === 'put' && Array.isArray(m.records) && m.records.length > 0 && m.records.length <= MAX_RECORDS) {
    const records = m.records.map((r: unknown) => {
      const rec = r as Record<string, unknown>
      if (typeof rec?.key !== 'string' || !(rec.value instanceof Uint8Array)) throw new Error('bad record')
      return { key: rec.key, value: rec.value }
    })
    return { op: 'put', records }
  }
  throw new Error('unknown request')
}

/**
 * Whether `incoming` should replace `existing` in a peer's store: always, unless `existing` is a
 * same-or-higher version signed by the same author (no rollback through this protocol).
 */
function replaces(existing: Envelope | undefined, incoming: Envelope): boolean {
  if (existing === undefined) return true
  if (!Buffer.from(existing.author).equals(incoming.author)) return true
  return incoming.version > existing.version
}

/** The server side: validates and stores pushed records, answers gets from the local store. */
export function recordHandler(dht: Dht, logger?: Logger) {
  return async (request: Uint8Array, from: { id: string }): Promise<Uint8Array> => {
    let req: Request
    try {
      req = parseRequest(request)
    } catch (err) {
      return encodeMessage({ ok: false, error: `malformed request: ${(err as Error).message}` })
    }
    if (req.op === 'get') {
      if (parseRecordKey(req.key) === null) return encodeMessage({ value: null })
      const held = await dht.getValues(req.key, { localOnly: true }).catch(() => [])
      return encodeMessage({ value: held[0]?.value ?? null })
    }
    try {
      for (const { key, value } of req.records) {
        let incoming: Envelope
        try {
          incoming = validateChorusRecord(key, value)
        } catch (err) {
          // Offered to the DHT's own validator too, which refuses it as well and charges the sender
          // reputation (it runs inside the handler's inbound-peer context). It can store nothing a
          // kad-dht PUT_VALUE from the same peer could not.
          await dht.putValue(key, value, { localOnly: true }).catch(() => undefined)
          throw err
        }
        const held = await dht.getValues(key, { localOnly: true }).catch(() => [])
        let existing: Envelope | undefined
        const h = held[0]?.value
        if (h !== undefined) {
          if (Buffer.from(envelopeHash(h)).equals(envelopeHash(value))) continue
          try {
            existing = validateChorusRecord(key, h)
          } catch {
            existing = undefined
          }
        }
        if (replaces(existing, incoming)) await dht.putValue(key, value, { localOnly: true })
      }
      return encodeMessage({ ok: true })
    } catch (err) {
      logger?.debug({ from: from.id, reason: (err as Error).message }, 'refused a pushed record')
      return encodeMessage({ ok: false, error: (err as Error).message })
    }
  }
}

/** Client side: push records to one peer; resolves true when it stored them. */
export async function pushRecords(
  messaging: PeerMessaging,
  peer: string,
  records: DirectRecord[],
  signal: AbortSignal
): Promise<boolean> {
  const res = await messaging.request(peer, RECORD_PROTOCOL, encodeMessage({ op: 'put', records }), {
    signal,
    maxResponseBytes: 4096
  })
  const m = decode(res, DECODE) as { ok?: unknown }
  return m?.ok === true
}

/** Client side: ask one peer for the record it holds under `key`. */
export async function fetchRecord(
  messaging: PeerMessaging,
  peer: string,
  key: string,
  signal: AbortSignal
): Promise<Uint8Array | undefined> {
  const res = await messaging.request(peer, RECORD_PROTOCOL, encodeMessage({ op: 'get', key }), {
    signal,
    maxResponseBytes: DEFAULT_MAX_ENVELOPE_BYTES + 1024
  })
  const m = decode(res, DECODE) as { value?: unknown }
  return m?.value instanceof Uint8Array ? m.value : undefined
}
