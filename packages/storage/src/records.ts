import { bytesEqual } from '@chorus/common'
import { type RecordRules, type RecordSelector, type RecordValidator, StaleRecordError } from '@chorus/dht'
import { parseRecordKey } from './address.js'
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  DEFAULT_MAX_RECIPIENT_STANZAS,
  decodeEnvelope,
  type Envelope,
  envelopeHash,
  isTombstone
} from './envelope.js'
import { createRecordCheck, type RecordCheckInit, type WriteAuthority } from './record-check.js'
import { chorusSuccession } from './succession.js'
import type { Tombstones } from './tombstones.js'

/** The kad-dht namespace (first key segment) of every record this package writes. */
export const CHORUS_NAMESPACE = 'CHORUS'

export interface ChorusRecordRulesInit {
  /**
   * The team's write rule (`@chorus/team`'s `TeamPolicy`), run by the validator on every record:
   * team mode. Without it the rules run in open mode: any record signed by the key it carries is
   * accepted (tests and single-writer use; the agent always runs with a team).
   * @default undefined (open mode)
   */
  authority?: WriteAuthority
  /**
   * Largest record value accepted, in bytes (1 MiB + 128 KiB).
   * @default DEFAULT_MAX_ENVELOPE_BYTES
   */
  maxRecordBytes?: number
  /**
   * Most recipient stanzas a record's age ciphertext may carry (one per current key of each role
   * it is encrypted for); a record with more, or with any stanza but X25519, is refused before any
   * key agreement. The same limit as `@chorus/crypto`'s `maxRecipientStanzas`.
   * @default DEFAULT_MAX_RECIPIENT_STANZAS
   */
  maxRecipientStanzas?: number
  /**
   * Validator for `/CHORUS/...` keys outside `/CHORUS/ucxl/` (other packages sharing the
   * namespace, e.g. role announcements).
   * @default undefined (such keys are refused)
   */
  fallbackValidator?: RecordValidator
  /**
   * Selector for those keys; the succession rule keeps the held record unless it picks the offered one.
   * @default undefined (the first record)
   */
  fallbackSelector?: RecordSelector
  /**
   * The node's tombstone registry (`createTombstones()`, the one its storage is given): every
   * valid tombstone the validator meets is reported to it, and while a purge stands the records of
   * the purged versions are refused (as stale: their sender is not charged).
   * @default undefined (tombstones are validated like any record and nothing is refused for them)
   */
  tombstones?: Tombstones
}

const decoder = new TextDecoder()

/**
 * Checks that `value` may be stored under `key` (see `createRecordCheck`): a well-formed envelope
 * within the size limit, whose ciphertext hash and signature verify, whose address hashes to the
 * key's digest, whose version is n under a version key `/v/<n>`, and, given an authority, that the
 * team's write rule allows. `options` is the size limit or the check's init. Throws
 * `InvalidEnvelopeError`, `MalformedEnvelopeError` or `AccessDeniedError`; returns the envelope.
 */
export function validateChorusRecord(
  key: string,
  value: Uint8Array,
  options?: number | RecordCheckInit
): Envelope {
  const init = typeof options === 'number' ? { maxRecordBytes: options } : (options ?? {})
  return createRecordCheck(init)(key, value)
}

/**
 * Orders candidate envelopes for one key, best first: higher version, then smaller envelope hash
 * (so every node picks the same record from the same set). No timestamp counts: a backdated
 * record wins nothing.
 */
export function compareEnvelopes(
  a: { envelope: Envelope; hash: Uint8Array },
  b: { envelope: Envelope; hash: Uint8Array }
): number {
  if (a.envelope.version !== b.envelope.version) return b.envelope.version - a.envelope.version
  return Buffer.compare(a.hash, b.hash)
}

/**
 * The validator, selector and succession rule of the `CHORUS` namespace, for
 * `createLibP2PDHT({ records })` and `startNetwork({ records })`. Every node of a network must run
 * the same rules, with the same authority.
 *
 * The validator is the record check (see `createRecordCheck`), with the write rule in team mode.
 * The succession rule (see `chorusSuccession`) decides whether an offered record replaces the one
 * held. The selector prefers the highest valid version (ties: lowest hash); in open mode a record
 * chained to another record of the set by a different author (a forged successor) loses to that
 * predecessor. The selector only sees the records for one key, so it cannot tell every forged
 * chain; readers of this package re-check author and chain on read (see `retrieveUCXLContent`).
 */
export function chorusRecordRules(init: ChorusRecordRulesInit = {}): RecordRules {
  const maxBytes = init.maxRecordBytes ?? DEFAULT_MAX_ENVELOPE_BYTES
  const maxRecipientStanzas = init.maxRecipientStanzas ?? DEFAULT_MAX_RECIPIENT_STANZAS
  const check = createRecordCheck({
    authority: init.authority,
    maxRecordBytes: maxBytes,
    maxRecipientStanzas
  })
  const teamMode = init.authority !== undefined
  const validator: RecordValidator = async (keyBytes, value) => {
    const key = decoder.decode(keyBytes)
    if (parseRecordKey(key) === null && init.fallbackValidator !== undefined) {
      await init.fallbackValidator(keyBytes, value)
      return
    }
    const envelope = check(key, value)
    const tombstones = init.tombstones
    if (tombstones === undefined) return
    const k = parseRecordKey(key)
    if (k === null) return
    if (isTombstone(envelope)) {
      tombstones.observe({ envelope, digest: k.digest })
      return
    }
    const below = tombstones.purgedBelow(k.digest)
    // a purged version's ciphertext is not taken again while its tombstone stands
    if (below !== undefined && envelope.version < below) throw new StaleRecordError(key)
  }
  const selector: RecordSelector = (keyBytes, records) => {
    const key = decoder.decode(keyBytes)
    if (parseRecordKey(key) === null) {
      return init.fallbackSelector !== undefined ? init.fallbackSelector(keyBytes, records) : 0
    }
    const decoded: { i: number; envelope: Envelope; hash: Uint8Array }[] = []
    records.forEach((value, i) => {
      try {
        decoded.push({
          i,
          envelope: decodeEnvelope(value, { maxBytes, maxRecipientStanzas }),
          hash: envelopeHash(value)
        })
      } catch {
        // not an envelope: never selected
      }
    })
    // Open mode: a record that names another one of the set as its predecessor but is signed by
    // another author is a forged successor: the predecessor's chain wins over it. (In team mode
    // the write rule already refused every author who is not the address's agent.)
    const forged = (c: (typeof decoded)[number]): boolean =>
      !teamMode &&
      c.envelope.previous !== null &&
      decoded.some(
        (p) =>
          p !== c &&
          bytesEqual(p.hash, c.envelope.previous as Uint8Array) &&
          !bytesEqual(p.envelope.author, c.envelope.author)
      )
    const pool = decoded.filter((c) => !forged(c))
    const best = (pool.length > 0 ? pool : decoded).sort(compareEnvelopes)[0]
    return best === undefined ? 0 : best.i
  }
  const succession = chorusSuccession({
    authority: init.authority,
    maxRecordBytes: maxBytes,
    fallbackSelector: init.fallbackSelector
  })
  return {
    validators: { [CHORUS_NAMESPACE]: validator },
    selectors: { [CHORUS_NAMESPACE]: selector },
    succession: { [CHORUS_NAMESPACE]: succession }
  }
}
