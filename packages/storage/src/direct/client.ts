import type { PeerMessaging } from '@chorus/dht'
import {
  type DirectRecord,
  decodeMessage,
  encodeMessage,
  MAX_GET_RESPONSE_BYTES,
  MAX_PUT_RESPONSE_BYTES,
  RECORD_PROTOCOL
} from './protocol.js'

/** The client side of the direct record protocol. */
export interface DirectClient {
  /** Pushes records to one peer; resolves true when it stored them. */
  push(peer: string, records: DirectRecord[], signal: AbortSignal): Promise<boolean>
  /** Asks one peer for the record it holds under `key`. */
  fetch(peer: string, key: string, signal: AbortSignal): Promise<Uint8Array | undefined>
}

/** Client side: push records to one peer; resolves true when it stored them. */
export async function pushRecords(
  messaging: Pick<PeerMessaging, 'request'>,
  peer: string,
  records: DirectRecord[],
  signal: AbortSignal
): Promise<boolean> {
  const res = await messaging.request(peer, RECORD_PROTOCOL, encodeMessage({ op: 'put', records }), {
    signal,
    maxResponseBytes: MAX_PUT_RESPONSE_BYTES
  })
  const m = decodeMessage(res) as { ok?: unknown }
  return m?.ok === true
}

/** Client side: ask one peer for the record it holds under `key`. */
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

/** A {@link DirectClient} over `messaging`. */
export function directClient(messaging: Pick<PeerMessaging, 'request'>): DirectClient {
  return {
    push: (peer, records, signal) => pushRecords(messaging, peer, records, signal),
    fetch: (peer, key, signal) => fetchRecord(messaging, peer, key, signal)
  }
}
