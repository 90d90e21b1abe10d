import type { RecordRules, RecordSelector, RecordValidator } from '@chorus/dht'
import { digestOfBase, parseRecordKey } from './address.js'
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  decodeEnvelope,
  type Envelope,
  envelopeHash,
  openEnvelope
} from './envelope.js'
import { InvalidEnvelopeError } from './errors.js'

/** The kad-dht namespace (first key segment) of every record this package writes. */
export const CHORUS_NAMESPACE = 'CHORUS'

export interface ChorusRecordRulesInit {
  /** Largest record value accepted, in bytes. Default: `DEFAULT_MAX_ENVELOPE_BYTES` (1 MiB + 128 KiB). */
  maxRecordBytes?: number
  /**
   * Validator for `/CHORUS/...` keys outside `/CHORUS/ucxl/` (other packages sharing the
   * namespace, e.g. role announcements). Default: none, such keys are refused.
   */
  fallbackValidator?: RecordValidator
  /** Selector for those keys. Default: the first record. */
  fallbackSelector?: RecordSelector
}

const decoder = new TextDecoder()

/**
 * Checks that `value` may be stored under `key`: a well-formed envelope within the size limit,
 * whose ciphertext hash and signature verify, whose address hashes to the key's digest, and (for
 * a version key `/v/<n>`) whose version is n. Throws `InvalidEnvelopeError` or
 * `MalformedEnvelopeError`; returns the envelope.
 */
export function validateChorusRecord(key: string, value: Uint8Array, maxBytes?: number): Envelope {
  const k = parseRecordKey(key)
  if (k === null) throw new InvalidEnvelopeError(`key ${JSON.stringify(key)} is not a CHORUS ucxl key`)
  const envelope = openEnvelope(value, { maxBytes })
  if (digestOfBase(envelope.address) !== k.digest) {
    throw new InvalidEnvelopeError('the envelope address does not hash to the key digest')
  }
  if (k.version !== undefined && k.version !== envelope.version) {
    throw new InvalidEnvelopeError(`version key /v/${k.version} holds version ${envelope.version}`)
  }
  return envelope
}

/**
 * Orders candidate envelopes for one key, best first: higher version, then earlier timestamp,
 * then smaller envelope hash (so every node picks the same record from the same set).
 */
export function compareEnvelopes(
  a: { envelope: Envelope; hash: Uint8Array },
  b: { envelope: Envelope; hash: Uint8Array }
): number {
  if (a.envelope.version !== b.envelope.version) return b.envelope.version - a.envelope.version
  if (a.envelope.metadata.timestamp !== b.envelope.metadata.timestamp) {
    return a.envelope.metadata.timestamp - b.envelope.metadata.timestamp
  }
  return Buffer.compare(a.hash, b.hash)
}

/**
 * The validator and selector of the `CHORUS` namespace, for `createLibP2PDHT({ records })` and
 * `startNetwork({ records })`. Every node of a network must run the same rules.
 *
 * The selector prefers the highest valid version (ties: earliest timestamp, then lowest hash),
 * except that a record chained to another record of the set by a different author (a forged
 * successor) loses to that predecessor. It only sees the records for one key, so it cannot tell
 * every forged chain; readers of this package re-check author and chain on read
 * (see `retrieveUCXLContent`). LibP2PDHT runs it on every incoming PUT against the record it holds.
 */
export function chorusRecordRules(init: ChorusRecordRulesInit = {}): RecordRules {
  const maxBytes = init.maxRecordBytes ?? DEFAULT_MAX_ENVELOPE_BYTES
  const validator: RecordValidator = async (keyBytes, value) => {
    const key = decoder.decode(keyBytes)
    if (parseRecordKey(key) === null && init.fallbackValidator !== undefined) {
      await init.fallbackValidator(keyBytes, value)
      return
    }
    validateChorusRecord(key, value, maxBytes)
  }
  const selector: RecordSelector = (keyBytes, records) => {
    const key = decoder.decode(keyBytes)
    if (parseRecordKey(key) === null) {
      return init.fallbackSelector !== undefined ? init.fallbackSelector(keyBytes, records) : 0
    }
    const decoded: { i: number; envelope: Envelope; hash: Uint8Array }[] = []
    records.forEach((value, i) => {
      try {
        decoded.push({ i, envelope: decodeEnvelope(value, { maxBytes }), hash: envelopeHash(value) })
      } catch {
        // not an envelope: never selected
      }
    })
    // A record that names another one of the set as its predecessor but is signed by another
    // author is a forged successor: the predecessor's chain wins over it.
    const forged = (c: (typeof decoded)[number]): boolean =>
      c.envelope.previous !== null &&
      decoded.some(
        (p) =>
          p !== c &&
          Buffer.from(p.hash).equals(c.envelope.previous as Uint8Array) &&
          !Buffer.from(p.envelope.author).equals(c.envelope.author)
      )
    const pool = decoded.filter((c) => !forged(c))
    const best = (pool.length > 0 ? pool : decoded).sort(compareEnvelopes)[0]
    return best === undefined ? 0 : best.i
  }
  return { validators: { [CHORUS_NAMESPACE]: validator }, selectors: { [CHORUS_NAMESPACE]: selector } }
}
