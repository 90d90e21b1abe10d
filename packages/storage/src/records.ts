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
 * The selector prefers the highest valid version (ties: earliest timestamp, then lowest hash).
 * It only sees the records for one key, so it cannot tell a genuine author chain from a forged
 * one; readers of this package re-check author and chain (see `retrieveUCXLContent`).
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
    let best = -1
    let bestCandidate: { envelope: Envelope; hash: Uint8Array } | undefined
    records.forEach((value, i) => {
      let envelope: Envelope
      try {
        envelope = decodeEnvelope(value, { maxBytes })
      } catch {
        return
      }
      const candidate = { envelope, hash: envelopeHash(value) }
      if (bestCandidate === undefined || compareEnvelopes(candidate, bestCandidate) < 0) {
        best = i
        bestCandidate = candidate
      }
    })
    return best === -1 ? 0 : best
  }
  return { validators: { [CHORUS_NAMESPACE]: validator }, selectors: { [CHORUS_NAMESPACE]: selector } }
}
