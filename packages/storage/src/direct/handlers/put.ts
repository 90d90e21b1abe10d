import type { DHT } from '@chorus/dht'
import { type Envelope, envelopeHash } from '../../envelope.js'
import { validateChorusRecord } from '../../records.js'
import type { PutRequest, PutResponse } from '../protocol.js'

export interface PutHandlerComponents {
  /** This node's record store (read and written with `localOnly`). */
  dht: Pick<DHT, 'getValues' | 'putValue'>
}

/**
 * Whether `incoming` should replace `existing` in a peer's store: always, unless `existing` is a
 * same-or-higher version signed by the same author (no rollback through this protocol).
 */
export function replaces(existing: Envelope | undefined, incoming: Envelope): boolean {
  if (existing === undefined) return true
  if (!Buffer.from(existing.author).equals(incoming.author)) return true
  return incoming.version > existing.version
}

/**
 * Validates every pushed record with the CHORUS rules and writes it into this node's record store,
 * unless the store already holds the same bytes or a same-author version at least as high. The
 * first invalid record ends the request with `{ ok: false }` (records before it stay stored).
 */
export async function handlePut(components: PutHandlerComponents, request: PutRequest): Promise<PutResponse> {
  const { dht } = components
  try {
    for (const { key, value } of request.records) {
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
    return { ok: true }
  } catch (err) {
    return { ok: false, error: (err as Error).message }
  }
}
