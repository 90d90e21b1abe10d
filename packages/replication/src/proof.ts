/**
 * Proof of possession: a holder proves it holds a value by hashing it with the verifier's fresh
 * nonce. Only a node that has the whole value can answer, and an answer is good for one
 * challenge only. The key is length-prefixed so that no (key, value) pair hashes like another.
 *
 *   proof = SHA-256(PROOF_DOMAIN || nonce || uint32be(len(key)) || utf8(key) || value)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { NONCE_BYTES } from './protocol.js'

/** Separates these hashes from every other SHA-256 in the system. */
export const PROOF_DOMAIN = new TextEncoder().encode('CHORUS replicate proof of possession v1\0')

/** SHA-256 of a value: what a challenge names. */
export function valueDigest(value: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(value).digest())
}

/** The answer to a challenge for `key` with `nonce`, over `value`. */
export function possessionProof(nonce: Uint8Array, key: string, value: Uint8Array): Uint8Array {
  const k = Buffer.from(key, 'utf8')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(k.byteLength)
  return new Uint8Array(
    createHash('sha256').update(PROOF_DOMAIN).update(nonce).update(len).update(k).update(value).digest()
  )
}

/** A fresh challenge nonce. */
export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES))
}

/** Whether two digests or proofs are equal (in constant time). */
export function sameDigest(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a != null && b != null && a.byteLength === b.byteLength && timingSafeEqual(a, b)
}
