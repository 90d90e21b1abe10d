/**
 * Ed25519 with Node's own crypto (OpenSSL) on raw keys: a 32-byte public key and a 32-byte seed
 * (the private key), converted to KeyObjects through their fixed SPKI and PKCS#8 DER prefixes.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify
} from 'node:crypto'

// RFC 8410: SubjectPublicKeyInfo and PrivateKeyInfo of Ed25519 are these bytes, then the raw key.
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20
])

export const KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

function withPrefix(prefix: Uint8Array, raw: Uint8Array): Buffer {
  const der = Buffer.alloc(prefix.byteLength + raw.byteLength)
  der.set(prefix, 0)
  der.set(raw, prefix.byteLength)
  return der
}

function rawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' })
  return new Uint8Array(der.subarray(der.byteLength - KEY_BYTES))
}

/** A KeyObject for a seed; the DER copy of the seed is wiped once OpenSSL has it. */
function privateKeyObject(seed: Uint8Array): KeyObject {
  const der = withPrefix(PKCS8_PREFIX, seed)
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
  } finally {
    der.fill(0)
  }
}

/** A fresh key pair: raw public key and seed. */
export function generateKeyPair(): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const der = privateKey.export({ format: 'der', type: 'pkcs8' })
  const seed = new Uint8Array(der.subarray(der.byteLength - KEY_BYTES))
  der.fill(0)
  return { publicKey: rawPublic(publicKey), privateKey: seed }
}

/** The public key of a seed. */
export function publicKeyOf(seed: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(privateKeyObject(seed)))
}

/** Signs `data` with `seed` (no key object outlives the call). */
export function signWithSeed(seed: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, data, privateKeyObject(seed)))
}

// Building a KeyObject costs more than a verification; roots and issuers are few.
const publicKeys = new Map<string, KeyObject>()
const PUBLIC_KEY_CACHE = 256

function publicKeyObject(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')
  let key = publicKeys.get(id)
  if (key === undefined) {
    key = createPublicKey({ key: withPrefix(SPKI_PREFIX, raw), format: 'der', type: 'spki' })
    if (publicKeys.size >= PUBLIC_KEY_CACHE) {
      const oldest = publicKeys.keys().next().value
      if (oldest !== undefined) publicKeys.delete(oldest)
    }
    publicKeys.set(id, key)
  }
  return key
}

/** Verifies an Ed25519 signature. Never throws: a malformed key or signature is not valid. */
export function verifySignature(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== KEY_BYTES || signature.byteLength !== SIGNATURE_BYTES) return false
  try {
    return nodeVerify(null, data, publicKeyObject(publicKey), signature)
  } catch {
    return false
  }
}
