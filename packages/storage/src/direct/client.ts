import { bytesEqual } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import { PeerGate } from './peer-gate.js'
import {
  type BatchItem,
  type DirectRecord,
  decodeMessage,
  encodeMessage,
  MAX_BATCH_RESPONSE_BYTES,
  MAX_GET_RESPONSE_BYTES,
  MAX_PUT_RESPONSE_BYTES,
  type PutResponse,
  parseBatchResponse,
  parsePutResponse,
  RECORD_PROTOCOL
} from './protocol.js'
import { DEFAULT_BATCHES_IN_FLIGHT, PushBatcher } from './push-batcher.js'

/** The client side of the direct record protocol. */
export interface DirectClient {
  /** Pushes records to one peer; resolves `{ ok: true }` when it stored them, else its refusal code. */
  push(peer: string, records: DirectRecord[], signal: AbortSignal): Promise<PutResponse>
  /** Asks one peer for the record it holds under `key`. */
  fetch(peer: string, key: string, signal: AbortSignal): Promise<Uint8Array | undefined>
}

/**
 * Client side: push records to one peer; resolves `{ ok: true }` when it stored them, else with the
 * peer's refusal code (see `REFUSAL_CODES`).
 */
export async function pushRecords(
  messaging: Pick<PeerMessaging, 'request'>,
  peer: string,
  records: DirectRecord[],
  signal: AbortSignal
): Promise<PutResponse> {
  const res = await messaging.request(peer, RECORD_PROTOCOL, encodeMessage({ op: 'put', records }), {
    signal,
    maxResponseBytes: MAX_PUT_RESPONSE_BYTES
  })
  return parsePutResponse(decodeMessage(res))
}

/**
 * Client side: push a batch of items to one peer; resolves with one answer per item, in order
 * (see `parseBatchResponse`).
 */
export async function pushBatch(
  messaging: Pick<PeerMessaging, 'request'>,
  peer: string,
  items: BatchItem[],
  signal: AbortSignal
): Promise<PutResponse[]> {
  const res = await messaging.request(peer, RECORD_PROTOCOL, encodeMessage({ op: 'batch', items }), {
    signal,
    maxResponseBytes: MAX_BATCH_RESPONSE_BYTES
  })
  return parseBatchResponse(decodeMessage(res), items.length)
}

/** The records of one store as batch items: records that share their value bytes travel as one item. */
export function itemsOf(records: DirectRecord[]): BatchItem[] {
  const items: BatchItem[] = []
  for (const { key, value } of records) {
    const same = items.find((i) => i.value === value || bytesEqual(i.value, value))
    if (same !== undefined) same.keys.push(key)
    else items.push({ keys: [key], value })
  }
  return items
}

/**
 * Client side: ask one peer for the record it holds under `key`. The answer is bytes from a peer:
 * the caller runs the record check on it (read candidates do, see `verifyCandidates`).
 */
export async function fetchRecord(
  messaging: Pick<PeerMessaging, 'request'>,
  peer: string,
  key: string,
  signal: AbortSignal
): Promise<Uint8Array | undefined> {
  const res = await messaging.request(peer, RECORD_PROTOCOL, encodeMessage({ op: 'get', key }), {
    signal,
    maxResponseBytes: MAX_GET_RESPONSE_BYTES
  })
  const m = decodeMessage(res) as { value?: unknown }
  return m?.value instanceof Uint8Array ? m.value : undefined
}

/**
 * Direct requests in flight to one peer at most, pushes and fetches together: half of libp2p's
 * default per-connection inbound stream limit (32), which the peer enforces by resetting the
 * stream, so this node's requests never reach it (see `PeerGate`).
 */
export const MAX_REQUESTS_PER_PEER = 16

/**
 * A {@link DirectClient} over `messaging`: at most `maxPerPeer` requests in flight to one peer,
 * more wait their turn within their signal. Pushes travel in batches (see `PushBatcher`), at most
 * `batchesPerPeer` of them in flight to one peer; a push's answer is its first refusal, if any.
 */
export function directClient(
  messaging: Pick<PeerMessaging, 'request'>,
  maxPerPeer = MAX_REQUESTS_PER_PEER,
  batchesPerPeer = DEFAULT_BATCHES_IN_FLIGHT
): DirectClient {
  const gate = new PeerGate(maxPerPeer)
  const batcher = new PushBatcher(
    (peer, items, signal) => gate.run(peer, signal, () => pushBatch(messaging, peer, items, signal)),
    batchesPerPeer
  )
  return {
    push: async (peer, records, signal) => {
      const answers = await Promise.all(itemsOf(records).map((item) => batcher.push(peer, item, signal)))
      return answers.find((a) => !a.ok) ?? { ok: true }
    },
    fetch: (peer, key, signal) => gate.run(peer, signal, () => fetchRecord(messaging, peer, key, signal))
  }
}
