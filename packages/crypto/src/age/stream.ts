import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto'
import { CiphertextIntegrityError } from '../errors.js'

// age's STREAM payload: ChaCha20-Poly1305 over 64 KiB chunks, nonce = 11-byte big-endian chunk
// counter || last-chunk flag. Done with Node's native cipher, one call per chunk, writing into a
// single preallocated buffer. Decryption authenticates every chunk before any plaintext is
// returned, so a failure never leaks a partial plaintext.

export const CHUNK_SIZE = 64 * 1024
export const TAG_SIZE = 16
const ENC_CHUNK = CHUNK_SIZE + TAG_SIZE

export function payloadLength(plaintextLength: number): number {
  const chunks = Math.max(1, Math.ceil(plaintextLength / CHUNK_SIZE))
  return plaintextLength + TAG_SIZE * chunks
}

function setCounter(nonce: Buffer, counter: number, last: boolean): void {
  // A counter beyond 2^48 chunks (16 EiB) cannot happen with in-memory inputs.
  nonce.fill(0)
  nonce.writeUIntBE(counter, 5, 6)
  nonce[11] = last ? 1 : 0
}

/** Encrypts `plaintext` into `out` at `offset`; `out` must have payloadLength() bytes free. */
export function encryptStream(key: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number): void {
  const secret = createSecretKey(key)
  const nonce = Buffer.alloc(12)
  const chunks = Math.max(1, Math.ceil(plaintext.length / CHUNK_SIZE))
  let o = offset
  for (let i = 0; i < chunks; i++) {
    setCounter(nonce, i, i === chunks - 1)
    const cipher = createCipheriv('chacha20-poly1305', secret, nonce, { authTagLength: TAG_SIZE })
    const ct = cipher.update(plaintext.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE))
    cipher.final()
    out.set(ct, o)
    o += ct.length
    out.set(cipher.getAuthTag(), o)
    o += TAG_SIZE
  }
}

function openChunk(key: KeyObject, nonce: Buffer, chunk: Uint8Array, out: Buffer, at: number): void {
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE })
  decipher.setAuthTag(chunk.subarray(chunk.length - TAG_SIZE))
  const pt = decipher.update(chunk.subarray(0, chunk.length - TAG_SIZE))
  try {
    decipher.final()
  } catch (cause) {
    pt.fill(0)
    throw new CiphertextIntegrityError('payload', 'a payload chunk does not authenticate', { cause })
  }
  out.set(pt, at)
}

/** Decrypts a whole STREAM payload; throws CiphertextIntegrityError('payload') and releases nothing on failure. */
export function decryptStream(key: Uint8Array, payload: Uint8Array): Buffer {
  if (payload.length === 0) throw new CiphertextIntegrityError('payload', 'the payload has no chunks')
  const fullChunks = Math.floor((payload.length - 1) / ENC_CHUNK)
  const lastLength = payload.length - fullChunks * ENC_CHUNK
  if (lastLength < TAG_SIZE) throw new CiphertextIntegrityError('payload', 'the last chunk is truncated')
  if (lastLength === TAG_SIZE && fullChunks > 0) {
    throw new CiphertextIntegrityError('payload', 'the last chunk is empty but is not the only chunk')
  }
  const out = Buffer.allocUnsafe(payload.length - TAG_SIZE * (fullChunks + 1))
  const secret = createSecretKey(key)
  const nonce = Buffer.alloc(12)
  try {
    for (let i = 0; i < fullChunks; i++) {
      setCounter(nonce, i, false)
      openChunk(secret, nonce, payload.subarray(i * ENC_CHUNK, (i + 1) * ENC_CHUNK), out, i * CHUNK_SIZE)
    }
    setCounter(nonce, fullChunks, true)
    openChunk(secret, nonce, payload.subarray(fullChunks * ENC_CHUNK), out, fullChunks * CHUNK_SIZE)
  } catch (err) {
    out.fill(0)
    throw err
  }
  return out
}
