/**
 * The one check of a CHORUS record that came from outside this node: every path that opens an
 * envelope (the DHT validator, the direct protocol's handlers, read candidates, the chain walk,
 * `indexEnvelope`) runs it, so a record refused on one path is refused on all of them.
 *
 * Two modes:
 * - **team mode** (a {@link WriteAuthority} is given; how the agent always runs): the record must
 *   also satisfy the team's write rule: a valid certificate for the author key, whose agent owns
 *   the address and whose roles include the address role, which equals `creatorRole` and may write.
 * - **open mode** (no authority): any well-formed record signed by the key it carries is accepted.
 *   For tests and single-writer use only: anyone can write anything.
 */
import { digestOfBase, parseRecordKey } from './address.js'
import {
  DEFAULT_MAX_ENVELOPE_BYTES,
  DEFAULT_MAX_RECIPIENT_STANZAS,
  type Envelope,
  openEnvelope
} from './envelope.js'
import { AccessDeniedError, InvalidEnvelopeError, MalformedEnvelopeError } from './errors.js'
import { createVerifiedRecords, type VerifiedRecords } from './verified-records.js'

/** The record fields the write rule judges. */
export interface AuthoredRecord {
  /** The canonical address without temporal segment. */
  address: string
  creatorRole: string
  /** The author's raw 32-byte Ed25519 public key (the key that signed the envelope). */
  author: Uint8Array
  /** The author's member certificate as the envelope carries it; null when it carries none. */
  certificate: Uint8Array | null
  /** When the author signed it (the envelope's timestamp): a revoked author is judged by it. */
  timestamp: number
}

/**
 * The team's write rule (`@chorus/team`'s `TeamPolicy` fits it). Throws when the author may not
 * write this record; must decide synchronously (a returned promise is treated as a refusal).
 */
export interface WriteAuthority {
  authorizeWrite(record: AuthoredRecord): unknown
  /**
   * Calls `listener` whenever the rule changes (`TeamPolicy`: a new manifest); returns the
   * unsubscribe function. The verified-record memo of this authority is emptied then. Optional.
   */
  onManifest?(listener: (manifest: unknown) => void): () => void
}

export interface RecordCheckInit {
  /** The team's write rule. Default: none (open mode: see this module's comment). */
  authority?: WriteAuthority
  /** Largest record value accepted, in bytes. Default: `DEFAULT_MAX_ENVELOPE_BYTES` (1 MiB + 128 KiB). */
  maxRecordBytes?: number
  /** Most recipient stanzas in a record's ciphertext. Default: `DEFAULT_MAX_RECIPIENT_STANZAS` (128). */
  maxRecipientStanzas?: number
  /**
   * Records already verified, so each distinct record is decoded and its signature verified once.
   * Default: the memo every check of the same authority shares (`verifiedRecordsOf(authority)`).
   */
  verified?: VerifiedRecords
}

// One memo per authority, shared by every check built with it (the DHT's validators, storage's
// reads and indexing, the direct protocol), so a record is verified once per node; open mode
// (no authority) shares one per process.
const memos = new WeakMap<object, VerifiedRecords>()
const OPEN_MODE = {}

/**
 * The verified-record memo every record check of `authority` shares (open mode: of every check
 * without one). Its `stats()` count signature verifications; `clear()` forgets every record (the
 * team's write rule still runs on each check, so a changed policy applies without it; it is also
 * emptied on each new manifest when the authority has `onManifest`).
 */
export function verifiedRecordsOf(authority?: WriteAuthority): VerifiedRecords {
  const owner: object = authority ?? OPEN_MODE
  let memo = memos.get(owner)
  if (memo === undefined) {
    const created = createVerifiedRecords()
    memo = created
    memos.set(owner, created)
    authority?.onManifest?.(() => created.clear())
  }
  return memo
}

/**
 * Checks a record offered under `key` and returns its envelope; throws `MalformedEnvelopeError`,
 * `InvalidEnvelopeError` or (refused by the write rule) `AccessDeniedError`.
 */
export type RecordCheck = (key: string, value: Uint8Array) => Envelope

/** What the write rule judges of an envelope. */
export function authoredRecord(e: Envelope): AuthoredRecord {
  return {
    address: e.address,
    creatorRole: e.metadata.creatorRole,
    author: e.author,
    certificate: e.certificate,
    timestamp: e.metadata.timestamp
  }
}

/** Runs the write rule; its refusal becomes `AccessDeniedError` (the rule's error is the cause). */
export function authorize(authority: WriteAuthority, record: AuthoredRecord, reason: string): void {
  let result: unknown
  try {
    result = authority.authorizeWrite(record)
  } catch (err) {
    throw new AccessDeniedError(record.address, reason, { cause: err })
  }
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    // fail closed: a rule that answers later cannot be waited for inside a validator
    ;(result as Promise<unknown>).then(undefined, () => undefined)
    throw new AccessDeniedError(record.address, 'the write authority must decide synchronously')
  }
}

/**
 * The record check: a well-formed envelope within the size limit, whose ciphertext hash and
 * signature verify, whose address hashes to the key's digest, whose version is n under a version
 * key `/v/<n>`, and (team mode) that the write rule allows.
 */
export function createRecordCheck(init: RecordCheckInit = {}): RecordCheck {
  const { authority } = init
  const maxBytes = init.maxRecordBytes ?? DEFAULT_MAX_ENVELOPE_BYTES
  const maxRecipientStanzas = init.maxRecipientStanzas ?? DEFAULT_MAX_RECIPIENT_STANZAS
  const verified = init.verified ?? verifiedRecordsOf(authority)
  const limits = `${maxBytes}/${maxRecipientStanzas}`
  const verify = (value: Uint8Array): Envelope => openEnvelope(value, { maxBytes, maxRecipientStanzas })
  return (key, value) => {
    const k = parseRecordKey(key)
    if (k === null) throw new InvalidEnvelopeError('the key is not a CHORUS ucxl key')
    if (!(value instanceof Uint8Array)) throw new MalformedEnvelopeError('not a byte array')
    // the size limit first: nothing over it is hashed, decoded or remembered
    if (value.byteLength > maxBytes)
      throw new MalformedEnvelopeError(`${value.byteLength} bytes is over the ${maxBytes} byte limit`)
    const envelope = verified.open(value, limits, verify)
    if (digestOfBase(envelope.address) !== k.digest) {
      throw new InvalidEnvelopeError('the envelope address does not hash to the key digest')
    }
    if (k.version !== undefined && k.version !== envelope.version) {
      throw new InvalidEnvelopeError(`version key /v/${k.version} holds version ${envelope.version}`)
    }
    if (authority !== undefined) {
      authorize(authority, authoredRecord(envelope), 'the author may not write this record')
    }
    return envelope
  }
}
