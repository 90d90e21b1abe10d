import { createPublicKey, type KeyObject, verify } from 'node:crypto'

// Building a KeyObject costs more than the verification itself; keep a few recent ones.
const keyCache = new Map<string, KeyObject>()
const KEY_CACHE_SIZE = 256

function publicKeyObject(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url')
  let key = keyCache.get(x)
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
    if (keyCache.size >= KEY_CACHE_SIZE) {
      const oldest = keyCache.keys().next().value
      if (oldest !== undefined) keyCache.delete(oldest)
    }
    keyCache.set(x, key)
  }
  return key
}

/**
 * Verifies an Ed25519 signature with Node's own crypto (OpenSSL). `publicKey` is the raw 32-byte
 * key as libp2p's Ed25519 peer keys (and `NodeSigner.publicKey`) carry it. Never throws: a
 * malformed key or signature is simply not valid.
 */
export function verifyEd25519(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== 32 || signature.byteLength !== 64) return false
  try {
    return verify(null, data, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}
