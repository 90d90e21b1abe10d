import { createHash } from 'node:crypto'
import { bytesEqual, STRICT_CBOR_DECODE_OPTIONS } from '@chorus/common'
import { ageCryptoDefaults, checkRecipientStanzas } from '@chorus/crypto'
import type { AbortOptions, NodeSigner } from '@chorus/dht'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { canonicalBaseAddress } from './address.js'
import { verifyEd25519 } from './ed25519.js'
import { InvalidEnvelopeError, MalformedEnvelopeError } from './errors.js'

/**
 * The envelope format this package writes and the only one it accepts. Format 2 added the
 * author's member certificate; format 1 envelopes are refused.
 */
export const ENVELOPE_FORMAT = 2

/** Largest member certificate an envelope may carry, in bytes (a certificate is a few hundred). */
export const MAX_CERTIFICATE_BYTES = 2048

/**
 * Default upper bound on an encoded envelope: 1 MiB of content, its age overhead (64 KiB chunks
 * carry 16 bytes each, one header stanza per recipient key) and the metadata, with room to spare.
 */
export const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024 + 128 * 1024

// Domain separation: a signature over an envelope can never be replayed as another message.
const SIGNING_CONTEXT = new TextEncoder().encode('CHORUS-ENVELOPE-v2\n')

const ROLE_RE = /^[A-Za-z0-9_-]{1,64}$/
const CONTENT_TYPE_RE = /^[A-Za-z0-9_.+/-]{1,64}$/
const MAX_ENCRYPTED_FOR = 64
const MAX_ADDRESS_CHARS = 2048
const MAX_VERSION = 2 ** 32

/** What the envelope says about its content; the reference's UCXLMetadata fields. */
export interface EnvelopeMetadata {
  /** The role that created the content. */
  creatorRole: string
  /** The roles the ciphertext is encrypted for (`decryptableRoles(creatorRole)`). */
  encryptedFor: string[]
  /** Free-form type such as `decision` or `suggestion`. */
  contentType: string
  /** Creation time, milliseconds since the Unix epoch. */
  timestamp: number
  /** Plaintext size in bytes. */
  size: number
  /** SHA-256 of `ciphertext`. */
  ciphertextHash: Uint8Array
}

/** One signed version of the content at an address. */
export interface Envelope {
  format: number
  /** The canonical address without its temporal segment. */
  address: string
  /** 1 for the first version, previous + 1 after. */
  version: number
  metadata: EnvelopeMetadata
  /** The age ciphertext (binary format). */
  ciphertext: Uint8Array
  /** The author's raw 32-byte Ed25519 public key. */
  author: Uint8Array
  /**
   * The author's member certificate (signed by the team root or an issuer, binding the author key
   * to an agent and its roles), at most {@link MAX_CERTIFICATE_BYTES}; null when the author has
   * none (open mode). Signed with the rest, so it cannot be swapped; the team's write rule
   * (`WriteAuthority`) judges it.
   */
  certificate: Uint8Array | null
  /** SHA-256 of the previous version's encoded envelope; null for version 1. */
  previous: Uint8Array | null
  /** Ed25519 signature by `author` over the signing bytes (see `signingBytes`). */
  signature: Uint8Array
  /**
   * `'deleted'` for a tombstone: the next version of the chain, saying the address was deleted
   * (no content: empty ciphertext, size 0). Absent for content, whose encoding is unchanged.
   */
  kind?: typeof TOMBSTONE_KIND
  /** Tombstones only: the deleter asked every holder to drop the earlier versions' ciphertext. */
  purgeVersions?: boolean
}

/** The `kind` of a tombstone envelope. */
export const TOMBSTONE_KIND = 'deleted'

/** Whether the envelope is a tombstone (a deletion), not content. */
export function isTombstone(e: Pick<Envelope, 'kind'>): boolean {
  return e.kind === TOMBSTONE_KIND
}

export type UnsignedEnvelope = Omit<Envelope, 'signature'>

function toCbor(e: UnsignedEnvelope, signature: Uint8Array | undefined): Uint8Array {
  const m = e.metadata
  const obj: Record<string, unknown> = {
    format: e.format,
    address: e.address,
    version: e.version,
    metadata: {
      creatorRole: m.creatorRole,
      encryptedFor: m.encryptedFor,
      contentType: m.contentType,
      timestamp: m.timestamp,
      size: m.size,
      ciphertextHash: m.ciphertextHash
    },
    ciphertext: e.ciphertext,
    author: e.author,
    certificate: e.certificate,
    previous: e.previous
  }
  // only tombstones carry these, so a content envelope encodes as it always did
  if (e.kind === TOMBSTONE_KIND) {
    obj.kind = TOMBSTONE_KIND
    obj.purgeVersions = e.purgeVersions === true
  }
  if (signature !== undefined) obj.signature = signature
  return encode(obj, rfc8949EncodeOptions)
}

/** The bytes the author signs: a context string, then the canonical CBOR of every other field. */
export function signingBytes(e: UnsignedEnvelope): Uint8Array {
  const body = toCbor(e, undefined)
  const out = new Uint8Array(SIGNING_CONTEXT.byteLength + body.byteLength)
  out.set(SIGNING_CONTEXT, 0)
  out.set(body, SIGNING_CONTEXT.byteLength)
  return out
}

/** Canonical (RFC 8949 deterministic) CBOR of a signed envelope: the record value on the DHT. */
export function encodeEnvelope(e: Envelope): Uint8Array {
  return toCbor(e, e.signature)
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** The hash that names a version in its successor's `previous` field: SHA-256 of its encoding. */
export function envelopeHash(bytes: Uint8Array): Uint8Array {
  return sha256(bytes)
}

/** Signs an unsigned envelope with the node's key and returns it with its encoding and hash. */
export async function signEnvelope(
  unsigned: UnsignedEnvelope,
  signer: NodeSigner,
  options?: AbortOptions
): Promise<{ envelope: Envelope; bytes: Uint8Array; hash: Uint8Array }> {
  const signature = await signer.sign(signingBytes(unsigned), options)
  const envelope: Envelope = { ...unsigned, signature }
  const bytes = encodeEnvelope(envelope)
  return { envelope, bytes, hash: envelopeHash(bytes) }
}

const CONTENT_FIELDS = [
  'format',
  'address',
  'version',
  'metadata',
  'ciphertext',
  'author',
  'certificate',
  'previous',
  'signature'
] as const
const TOMBSTONE_FIELDS = [...CONTENT_FIELDS, 'kind', 'purgeVersions'] as const

function fail(reason: string): never {
  throw new MalformedEnvelopeError(reason)
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

function exactKeys(obj: Record<string, unknown>, keys: readonly string[], what: string): void {
  const have = Object.keys(obj)
  if (have.length !== keys.length || !keys.every((k) => Object.hasOwn(obj, k))) {
    fail(`${what} must have exactly the fields ${keys.join(', ')}`)
  }
}

function int(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fail(`${what} must be an integer in [${min}, ${max}]`)
  }
  return v
}

function bytes(v: unknown, what: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be a byte string`)
  if (length !== undefined && v.byteLength !== length) fail(`${what} must be ${length} bytes`)
  return v
}

function str(v: unknown, re: RegExp, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) fail(`${what} is not a valid value`)
  return v
}

/**
 * Default most recipient stanzas a record's ciphertext may carry: `@chorus/crypto`'s
 * `ageCryptoDefaults.maxRecipientStanzas` (128), the limit its readers open.
 */
export const DEFAULT_MAX_RECIPIENT_STANZAS: number = ageCryptoDefaults.maxRecipientStanzas

export interface DecodeEnvelopeOptions {
  /** Refuse encodings longer than this. Default: `DEFAULT_MAX_ENVELOPE_BYTES`. */
  maxBytes?: number
  /**
   * Refuse a ciphertext whose age header carries more recipient stanzas than this (counted while
   * the header is parsed, no key agreement), or any stanza but an X25519 one (records are only
   * encrypted to X25519 recipients; scrypt and others are refused). Default:
   * `DEFAULT_MAX_RECIPIENT_STANZAS`.
   */
  maxRecipientStanzas?: number
}

/** The CBOR map `input` encodes, within `maxBytes`; `MalformedEnvelopeError` otherwise. */
function decodeMap(input: Uint8Array, maxBytes: number): Record<string, unknown> {
  if (!(input instanceof Uint8Array)) fail('not a byte array')
  if (input.byteLength > maxBytes) fail(`${input.byteLength} bytes is over the ${maxBytes} byte limit`)
  let raw: unknown
  try {
    raw = decode(input, STRICT_CBOR_DECODE_OPTIONS)
  } catch (err) {
    throw new MalformedEnvelopeError('not canonical CBOR', { cause: err })
  }
  if (!isPlainObject(raw)) fail('not a CBOR map')
  return raw
}

/**
 * The address and version an encoding names, read without the strict checks of
 * {@link decodeEnvelope}: enough to name the key a record check runs under (which then decodes it
 * strictly, or finds it verified before). Throws `MalformedEnvelopeError` when it names none.
 */
export function envelopeName(
  input: Uint8Array,
  maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES
): { address: string; version: number } {
  const raw = decodeMap(input, maxBytes)
  if (typeof raw.address !== 'string' || raw.address.length > MAX_ADDRESS_CHARS) fail('address is invalid')
  return { address: raw.address, version: int(raw.version, 1, MAX_VERSION, 'version') }
}

/**
 * Strict decoder: the input must be the canonical CBOR encoding of exactly the envelope fields,
 * within the size limit, with a canonical address. Throws `MalformedEnvelopeError` otherwise.
 * It does not check the signature or hash; `verifyEnvelope` does.
 */
export function decodeEnvelope(input: Uint8Array, options: DecodeEnvelopeOptions = {}): Envelope {
  const raw = decodeMap(input, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES)
  const tombstone = Object.hasOwn(raw, 'kind')
  exactKeys(raw, tombstone ? TOMBSTONE_FIELDS : CONTENT_FIELDS, 'envelope')
  if (tombstone) {
    if (raw.kind !== TOMBSTONE_KIND) fail('kind is not a known kind')
    if (typeof raw.purgeVersions !== 'boolean') fail('purgeVersions must be a boolean')
  }
  if (raw.format !== ENVELOPE_FORMAT) fail(`unsupported format ${String(raw.format)}`)
  if (typeof raw.address !== 'string' || raw.address.length > MAX_ADDRESS_CHARS) fail('address is invalid')
  const canonical = canonicalBaseAddress(raw.address)
  if (canonical !== raw.address) fail('address is not a canonical address without temporal segment')
  const version = int(raw.version, 1, MAX_VERSION, 'version')
  const meta = raw.metadata
  if (!isPlainObject(meta)) fail('metadata must be a map')
  exactKeys(
    meta,
    ['creatorRole', 'encryptedFor', 'contentType', 'timestamp', 'size', 'ciphertextHash'],
    'metadata'
  )
  const ciphertext = bytes(raw.ciphertext, 'ciphertext')
  const encryptedFor = meta.encryptedFor
  if (!Array.isArray(encryptedFor) || encryptedFor.length === 0 || encryptedFor.length > MAX_ENCRYPTED_FOR) {
    fail(`encryptedFor must list 1 to ${MAX_ENCRYPTED_FOR} roles`)
  }
  for (const r of encryptedFor) str(r, ROLE_RE, 'encryptedFor role')
  if (new Set(encryptedFor).size !== encryptedFor.length) fail('encryptedFor has duplicate roles')
  const metadata: EnvelopeMetadata = {
    creatorRole: str(meta.creatorRole, ROLE_RE, 'creatorRole'),
    encryptedFor: encryptedFor as string[],
    contentType: str(meta.contentType, CONTENT_TYPE_RE, 'contentType'),
    timestamp: int(meta.timestamp, 0, Number.MAX_SAFE_INTEGER, 'timestamp'),
    size: int(meta.size, 0, ciphertext.byteLength, 'size'),
    ciphertextHash: bytes(meta.ciphertextHash, 'ciphertextHash', 32)
  }
  let previous: Uint8Array | null = null
  if (version === 1) {
    if (raw.previous !== null) fail('version 1 must have previous = null')
    // a tombstone deletes a version before it: there is none before version 1
    if (tombstone) fail('a tombstone cannot be version 1')
  } else {
    previous = bytes(raw.previous, 'previous', 32)
  }
  if (tombstone) {
    if (ciphertext.byteLength !== 0) fail('a tombstone carries no ciphertext')
  } else {
    try {
      checkRecipientStanzas(ciphertext, {
        maxStanzas: options.maxRecipientStanzas ?? DEFAULT_MAX_RECIPIENT_STANZAS
      })
    } catch (err) {
      throw new MalformedEnvelopeError(
        'the ciphertext is not an age file with X25519 recipients within the limit',
        {
          cause: err
        }
      )
    }
  }
  let certificate: Uint8Array | null = null
  if (raw.certificate !== null) {
    certificate = bytes(raw.certificate, 'certificate')
    if (certificate.byteLength === 0 || certificate.byteLength > MAX_CERTIFICATE_BYTES) {
      fail(`certificate must be 1 to ${MAX_CERTIFICATE_BYTES} bytes`)
    }
  }
  const envelope: Envelope = {
    format: ENVELOPE_FORMAT,
    address: canonical,
    version,
    metadata,
    ciphertext,
    author: bytes(raw.author, 'author', 32),
    certificate,
    previous,
    signature: bytes(raw.signature, 'signature', 64),
    ...(tombstone ? { kind: TOMBSTONE_KIND, purgeVersions: raw.purgeVersions as boolean } : {})
  }
  // One value, one encoding: refuse non-canonical map order or number forms (cborg's strict mode
  // checks integer and length forms; key order it leaves to us).
  const again = encodeEnvelope(envelope)
  if (!bytesEqual(again, input)) {
    fail('encoding is not canonical')
  }
  return envelope
}

/** Checks the ciphertext hash and the author's signature; throws `InvalidEnvelopeError`. */
export function verifyEnvelope(e: Envelope): void {
  const h = sha256(e.ciphertext)
  if (!bytesEqual(h, e.metadata.ciphertextHash)) {
    throw new InvalidEnvelopeError('ciphertext does not match its SHA-256 hash')
  }
  if (!verifyEd25519(e.author, signingBytes(e), e.signature)) {
    throw new InvalidEnvelopeError('signature does not verify with the author key')
  }
}

/** Decode and verify in one step. */
export function openEnvelope(input: Uint8Array, options?: DecodeEnvelopeOptions): Envelope {
  const e = decodeEnvelope(input, options)
  verifyEnvelope(e)
  return e
}
