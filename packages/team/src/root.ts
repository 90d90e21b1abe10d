/**
 * The team root: an Ed25519 key pair whose public key defines the team. Its id is the base64url
 * (no padding) of the 32-byte public key.
 */

import { bytesEqual, copyBytes } from '@chorus/common'
import { generateKeyPair, KEY_BYTES, publicKeyOf, signWithSeed, verifySignature } from './ed25519.js'
import { fromBase64url, toBase64url } from './encoding.js'
import { invalidInput } from './errors.js'

/** An Ed25519 key pair as raw bytes: the team root, or an issuer's key. */
export interface TeamRoot {
  /** The raw 32-byte public key. */
  publicKey: Uint8Array
  /** The 32-byte seed (the private key). Keep it offline, or split it with `splitTeamRoot`. */
  privateKey: Uint8Array
}

/** What signs manifests and certificates: the root, or an issuer of the manifest. */
export interface TeamSigner {
  /** The raw 32-byte Ed25519 public key of the signer. */
  readonly publicKey: Uint8Array
  /** The 64-byte Ed25519 signature of `data`. */
  sign(data: Uint8Array): Uint8Array
}

/** Length of a team id: the base64url of 32 bytes without padding. */
export const TEAM_ID_LENGTH = 43

/** A fresh team root (also how an issuer's key pair is made). */
export function generateTeamRoot(): TeamRoot {
  return generateKeyPair()
}

/**
 * The team id of a root public key: its base64url, without padding.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when `publicKey` is not 32 bytes.
 */
export function teamIdOf(publicKey: Uint8Array): string {
  checkKey(publicKey, 'publicKey')
  return toBase64url(publicKey)
}

/**
 * The root public key a team id names.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when `id` is not the base64url of 32 bytes.
 */
export function parseTeamId(id: string): Uint8Array {
  const key = typeof id === 'string' ? fromBase64url(id, KEY_BYTES) : null
  if (key === null) throw invalidInput('team id', 'must be the unpadded base64url of a 32-byte key')
  return key
}

/** True when `id` is a well-formed team id. Never throws. */
export function isTeamId(id: unknown): id is string {
  return typeof id === 'string' && fromBase64url(id, KEY_BYTES) !== null
}

/**
 * A signer for a key pair. The seed is read at each signature, so wiping `root.privateKey`
 * leaves no usable key behind in this signer.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when the keys are not 32 bytes each or the
 *   public key is not the seed's.
 */
export function rootSigner(root: TeamRoot): TeamSigner {
  checkKeyPair(root)
  const publicKey = copyBytes(root.publicKey)
  const seed = root.privateKey
  return Object.freeze({
    publicKey,
    sign: (data: Uint8Array): Uint8Array => signWithSeed(seed, data)
  })
}

/**
 * Signs `data` with `signer` and checks the signature against its public key, so a signer whose
 * `sign` uses another key is caught where it is used, not by every node that later refuses it.
 */
export function signChecked(signer: TeamSigner, data: Uint8Array): Uint8Array {
  const signature = signer.sign(data)
  if (!(signature instanceof Uint8Array) || !verifySignature(signer.publicKey, data, signature)) {
    throw invalidInput('signer', 'made a signature that does not verify with its public key')
  }
  return signature
}

export function checkKey(key: unknown, field: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
    throw invalidInput(field, 'must be a 32-byte Ed25519 key')
  }
}

/** Refuses a key pair whose public key is not its seed's. */
export function checkKeyPair(root: TeamRoot): void {
  if (typeof root !== 'object' || root === null) throw invalidInput('root', 'must be a key pair')
  checkKey(root.publicKey, 'root.publicKey')
  checkKey(root.privateKey, 'root.privateKey')
  if (!bytesEqual(publicKeyOf(root.privateKey), root.publicKey)) {
    throw invalidInput('root', 'public key is not the public key of the seed')
  }
}
