import { bytesEqual } from '@chorus/common'
import { type DHT, EquivocationError, StaleRecordError } from '@chorus/dht'
import { type Envelope, envelopeHash } from '../../envelope.js'
import type { RecordCheck } from '../../record-check.js'
import type { HashedEnvelope } from '../../succession.js'
import { type PutRequest, type PutResponse, REFUSAL_CODES, type RefusalCode, refusal } from '../protocol.js'

export interface PutHandlerComponents {
  /** This node's record store (read and written with `localOnly`). */
  dht: Pick<DHT, 'getValues' | 'putValue'>
  /** The record check (with the team's write rule in team mode). */
  check: RecordCheck
  /** The succession rule: returns when `incoming` may replace `held`, else throws (see `checkSuccession`). */
  succession(key: string, held: HashedEnvelope, incoming: HashedEnvelope): void
}

/** The refusal code of a succession or record-store error. */
function refusalOf(err: unknown): RefusalCode {
  if (StaleRecordError.isInstance(err)) return REFUSAL_CODES.STALE_RECORD
  if (EquivocationError.isInstance(err)) return REFUSAL_CODES.EQUIVOCATION
  return REFUSAL_CODES.NOT_STORED
}

/** The valid record this node holds under `key`, if any (one that no longer checks counts as none). */
async function heldRecord(
  components: PutHandlerComponents,
  key: string
): Promise<HashedEnvelope | undefined> {
  const held = await components.dht.getValues(key, { localOnly: true }).catch(() => [])
  const value = held[0]?.value
  if (value === undefined) return undefined
  let envelope: Envelope
  try {
    envelope = components.check(key, value)
  } catch {
    return undefined
  }
  return { envelope, hash: envelopeHash(value) }
}

/**
 * Checks every pushed record and writes it into this node's record store: the record check
 * first, then the succession rule against the valid record held (the same bytes again are
 * accepted and not rewritten). The first refused record ends the request with its refusal code
 * (records before it stay stored).
 */
export async function handlePut(components: PutHandlerComponents, request: PutRequest): Promise<PutResponse> {
  const { dht, check } = components
  for (const { key, value } of request.records) {
    let envelope: Envelope
    try {
      envelope = check(key, value)
    } catch {
      // Offered to the DHT's own validator too, which refuses it as well and charges the sender
      // reputation (it runs inside the handler's inbound-peer context). It can store nothing a
      // kad-dht PUT_VALUE from the same peer could not (the DHT runs the same CHORUS rules).
      await dht.putValue(key, value, { localOnly: true }).catch(() => undefined)
      return refusal(REFUSAL_CODES.INVALID_RECORD)
    }
    const incoming: HashedEnvelope = { envelope, hash: envelopeHash(value) }
    const held = await heldRecord(components, key)
    if (held !== undefined) {
      if (bytesEqual(held.hash, incoming.hash)) continue
      try {
        components.succession(key, held, incoming)
      } catch (err) {
        // An equivocation is offered to the DHT's record store too: its succession rule refuses it
        // as well (nothing is replaced) and charges the author, whose peer id it derives from the
        // signing key; the sender, who may only relay it, is not charged.
        if (EquivocationError.isInstance(err))
          await dht.putValue(key, value, { localOnly: true }).catch(() => undefined)
        return refusal(refusalOf(err))
      }
    }
    try {
      await dht.putValue(key, value, { localOnly: true })
    } catch (err) {
      return refusal(refusalOf(err))
    }
  }
  return { ok: true }
}
