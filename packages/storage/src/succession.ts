/**
 * The succession rule of the `CHORUS` namespace: whether a valid record offered for a key may
 * replace the valid record this node holds (see `RecordSuccession` in `@chorus/dht`). No timestamp
 * decides anything.
 *
 * - A version key `/v/<n>` is immutable: the first valid copy stays; a different valid copy is
 *   equivocation (`EquivocationError`, charged to the author that signed it).
 * - A head key moves only forward along its chain: a lower version is stale (`StaleRecordError`, no
 *   cost to the sender); the same version with other bytes is equivocation; version held + 1 must
 *   name the held record's hash as `previous` (else it forks the chain: equivocation); a version
 *   further ahead (this node missed some) is taken from the same author key, or in team mode from
 *   any author the write rule allowed, since every such author holds a certificate of the agent
 *   that owns the address.
 * - Open mode (no write authority) additionally refuses a successor by another author key, even
 *   one that names the held record (a forged successor), as the selector did before.
 */
import { bytesEqual } from '@chorus/common'
import { EquivocationError, type RecordSelector, type RecordSuccession, StaleRecordError } from '@chorus/dht'
import { parseRecordKey } from './address.js'
import { DEFAULT_MAX_ENVELOPE_BYTES, decodeEnvelope, type Envelope, envelopeHash } from './envelope.js'

/** An envelope with the hash of its encoding. */
export interface HashedEnvelope {
  envelope: Envelope
  hash: Uint8Array
}

/**
 * Applies the succession rule to two envelopes already checked for `key` (a CHORUS ucxl key):
 * returns when `incoming` may replace `held`, throws `StaleRecordError` or `EquivocationError`.
 * `teamMode`: both passed the team's write rule.
 */
export function checkSuccession(
  key: string,
  held: HashedEnvelope,
  incoming: HashedEnvelope,
  teamMode: boolean
): void {
  if (bytesEqual(held.hash, incoming.hash)) return
  const author = incoming.envelope.author
  if (parseRecordKey(key)?.version !== undefined) throw new EquivocationError(key, author)
  const hv = held.envelope.version
  const iv = incoming.envelope.version
  if (iv < hv) throw new StaleRecordError(key)
  if (iv === hv) throw new EquivocationError(key, author)
  const sameAuthor = bytesEqual(held.envelope.author, author)
  if (iv === hv + 1) {
    const previous = incoming.envelope.previous
    if (previous === null || !bytesEqual(previous, held.hash)) throw new EquivocationError(key, author)
    if (!sameAuthor && !teamMode) throw new EquivocationError(key, author)
    return
  }
  if (!sameAuthor && !teamMode) throw new EquivocationError(key, author)
}

export interface ChorusSuccessionInit {
  /** Team mode: the records were checked by this write rule (only its presence matters here). */
  authority?: unknown
  /** Largest record value decoded, in bytes. Default: `DEFAULT_MAX_ENVELOPE_BYTES`. */
  maxRecordBytes?: number
  /**
   * Selector for `/CHORUS/...` keys outside `/CHORUS/ucxl/`: the held record stays when it ranks
   * first. Default: none, the held record stays.
   */
  fallbackSelector?: RecordSelector
}

const decoder = new TextDecoder()

/**
 * The rule as a `RecordSuccession` over record bytes, for `RecordRules.succession.CHORUS` (the
 * DHT's PUT_VALUE) and for replication. A held record that no longer decodes is replaced.
 */
export function chorusSuccession(init: ChorusSuccessionInit = {}): RecordSuccession {
  const maxBytes = init.maxRecordBytes ?? DEFAULT_MAX_ENVELOPE_BYTES
  const teamMode = init.authority !== undefined
  return (keyBytes, held, incoming) => {
    const key = decoder.decode(keyBytes)
    if (bytesEqual(held, incoming)) return
    if (parseRecordKey(key) === null) {
      const select = init.fallbackSelector
      if (select === undefined || select(keyBytes, [held, incoming]) === 0) throw new StaleRecordError(key)
      return
    }
    let h: Envelope
    try {
      h = decodeEnvelope(held, { maxBytes })
    } catch {
      return // nothing valid held
    }
    const i = decodeEnvelope(incoming, { maxBytes })
    checkSuccession(
      key,
      { envelope: h, hash: envelopeHash(held) },
      { envelope: i, hash: envelopeHash(incoming) },
      teamMode
    )
  }
}
