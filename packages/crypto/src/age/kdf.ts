import { hash, timingSafeEqual } from 'node:crypto'

// HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869) composed from Node's one-shot native SHA-256.
// createHmac/hkdfSync cost 20-25 µs per call here, mostly object and KeyObject setup; with a
// one-shot hash an HKDF costs a few µs, which matters when a small record needs six of them.
// Tests check both against createHmac and hkdfSync.

const BLOCK = 64

// crypto.hash returns a 'binary' (latin1) string, one char per byte, about twice as fast as a
// Buffer (measured: ~1 µs vs ~3 µs for one block), so digests travel as latin1 and are written
// where they are needed.
function sha256(data: Uint8Array): Buffer {
  return Buffer.from(hash('sha256', data, 'binary'), 'latin1')
}

function padKey(key: Uint8Array): Uint8Array {
  return key.length > BLOCK ? sha256(key) : key
}

/** HMAC-SHA256(key, concatenation of parts). */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const k = padKey(key)
  let len = BLOCK
  for (const p of parts) len += p.length
  const inner = Buffer.allocUnsafe(len)
  for (let i = 0; i < BLOCK; i++) inner[i] = ((k[i] ?? 0) ^ 0x36) & 0xff
  let off = BLOCK
  for (const p of parts) {
    inner.set(p, off)
    off += p.length
  }
  const outer = Buffer.allocUnsafe(BLOCK + 32)
  for (let i = 0; i < BLOCK; i++) outer[i] = ((k[i] ?? 0) ^ 0x5c) & 0xff
  outer.write(hash('sha256', inner, 'binary'), BLOCK, 'latin1')
  return sha256(outer)
}

const ONE = new Uint8Array([1])

/** HKDF-SHA256 with an output of at most 32 bytes (one expand block), as age uses it. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length = 32): Buffer {
  if (length > 32) throw new RangeError('hkdfSha256 supports at most 32 bytes of output')
  const prk = hmacSha256(salt, ikm)
  const okm = hmacSha256(prk, info, ONE)
  return length === 32 ? okm : okm.subarray(0, length)
}

/** Constant-time equality for equal-length MACs (false on length mismatch). */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}
