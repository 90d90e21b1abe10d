/**
 * The wire forms every signed object of this package shares: canonical CBOR (RFC 8949
 * deterministic encoding, as storage's envelopes), a domain-separation context before the signed
 * body, strict decoding that accepts one encoding per value, and the field checks decoders use.
 * Checks throw a `Fault` with a fixed text; each decoder turns it into its own error.
 */
import { bytesEqual, copyBytes, STRICT_CBOR_DECODE_OPTIONS } from '@chorus/common'
import { roleKeyFromRecipient } from '@chorus/crypto'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'

/** Role names and agent ids: the UCXL component grammar, 1-64 characters. */
export const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/
const AGE_RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/
const BASE64URL_RE = /^[A-Za-z0-9_-]*$/

/** A broken rule, with a fixed text of this package (never the input). */
export class Fault {
  constructor(readonly detail: string) {}
}

export function fault(detail: string): never {
  throw new Fault(detail)
}

export function encodeCanonical(value: unknown): Uint8Array {
  return encode(value, rfc8949EncodeOptions)
}

/** `context` then the canonical CBOR of `body`: the bytes a signature covers. */
export function signingBytes(context: Uint8Array, body: Record<string, unknown>): Uint8Array {
  const encoded = encodeCanonical(body)
  const out = new Uint8Array(context.byteLength + encoded.byteLength)
  out.set(context, 0)
  out.set(encoded, context.byteLength)
  return out
}

/** Strict decoding of at most `maxBytes` bytes of CBOR (no tags, no floats' special values). */
export function decodeStrict(input: unknown, maxBytes: number): unknown {
  if (!(input instanceof Uint8Array)) fault('not a byte array')
  if (input.byteLength > maxBytes) fault('over the size limit')
  try {
    return decode(input, STRICT_CBOR_DECODE_OPTIONS)
  } catch {
    return fault('not strict CBOR')
  }
}

/** Refuses `input` unless it is exactly the canonical encoding of `value`. */
export function requireCanonical(input: Uint8Array, value: unknown): void {
  if (!bytesEqual(encodeCanonical(value), input)) fault('encoding is not canonical')
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
}

export function exactKeys(v: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (!isPlainObject(v)) fault(`${what} must be a map`)
  const have = Object.keys(v)
  if (have.length !== keys.length || !keys.every((k) => Object.hasOwn(v, k))) {
    fault(`${what} must have exactly the fields ${keys.join(', ')}`)
  }
  return v
}

export function int(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    fault(`${what} must be an integer in [${min}, ${max}]`)
  }
  return v
}

/** A copy of a byte string (never a view into the input). */
export function byteString(v: unknown, length: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.byteLength !== length) fault(`${what} must be ${length} bytes`)
  return copyBytes(v)
}

export function text(v: unknown, maxChars: number, what: string): string {
  if (typeof v !== 'string' || v.length > maxChars)
    fault(`${what} must be a string of at most ${maxChars} characters`)
  return v
}

/** A role name or agent id: `[A-Za-z0-9_-]{1,64}`, and never `__proto__` (it is a map key). */
export function name(v: unknown, what: string): string {
  if (typeof v !== 'string' || !NAME_RE.test(v) || v === '__proto__')
    fault(`${what} must match [A-Za-z0-9_-]{1,64}`)
  return v
}

export function list(v: unknown, max: number, what: string, min = 0): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max)
    fault(`${what} must list ${min} to ${max} entries`)
  return v
}

export function unique(values: readonly unknown[], what: string): void {
  if (new Set(values).size !== values.length) fault(`${what} has duplicates`)
}

/** An age X25519 recipient (`age1…`), its bech32 checksum checked. */
export function ageRecipient(v: unknown, what: string): string {
  if (typeof v !== 'string' || !AGE_RECIPIENT_RE.test(v)) fault(`${what} must be an age X25519 recipient`)
  try {
    roleKeyFromRecipient('recipient', v)
  } catch {
    fault(`${what} must be an age X25519 recipient`)
  }
  return v
}

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Strict base64url without padding: `null` unless `s` is the one encoding of `length` bytes
 * (Node's decoder skips characters it does not know; this one refuses them).
 */
export function fromBase64url(s: string, length: number): Uint8Array | null {
  if (s.length !== Math.ceil((length * 4) / 3) || !BASE64URL_RE.test(s)) return null
  const decoded = Buffer.from(s, 'base64url')
  const out = new Uint8Array(decoded)
  decoded.fill(0) // it may be a seed or a share
  if (out.byteLength !== length || toBase64url(out) !== s) {
    out.fill(0)
    return null
  }
  return out
}
