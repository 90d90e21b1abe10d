import { createPrivateKey, sign as ed25519Sign } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  generateKeyPair,
  privateKeyFromProtobuf,
  privateKeyToProtobuf,
  publicKeyFromRaw
} from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import type { AbortOptions, NodeSigner } from '../contract.js'
import { DHTConfigError } from '../errors.js'

/** File name of the persisted peer key inside `dataDir` (protobuf-encoded libp2p private key). */
export const PEER_KEY_FILE = 'peer.key'

/**
 * Loads the node's Ed25519 peer key from `<dataDir>/peer.key`, or creates it (mode 0600) so a
 * restarted node keeps its peer id. Without a data directory a fresh key is generated.
 */
export async function loadOrCreatePeerKey(dataDir: string | undefined): Promise<PrivateKey> {
  if (dataDir == null) return generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, PEER_KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DHTConfigError(`cannot read peer key file ${file}`, { cause: err })
    }
  }
  if (bytes != null) {
    try {
      const key = privateKeyFromProtobuf(bytes)
      // tighten permissions of a key file someone loosened
      await chmod(file, 0o600)
      return key
    } catch (err) {
      throw new DHTConfigError(`peer key file ${file} is not a libp2p private key`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  return key
}

/** A `NodeSigner` over an Ed25519 libp2p private key. */
export function signerFromKey(key: PrivateKey): NodeSigner {
  if (key.type !== 'Ed25519') {
    throw new DHTConfigError(`the node key must be Ed25519 to sign records, got ${key.type}`)
  }
  const publicKey = key.publicKey.raw
  // One OpenSSL key object for the node's life: libp2p's own sign() builds one per call, which
  // costs several times the signature itself (stores and audit checkpoints sign on the hot path).
  const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url')
  const keyObject = createPrivateKey({
    format: 'jwk',
    key: { kty: 'OKP', crv: 'Ed25519', d: b64(key.raw.subarray(0, 32)), x: b64(publicKey) }
  })
  return {
    publicKey,
    async sign(data: Uint8Array, options?: AbortOptions): Promise<Uint8Array> {
      options?.signal?.throwIfAborted()
      return new Uint8Array(ed25519Sign(null, data, keyObject))
    }
  }
}

/**
 * The peer id (as a string) of a raw 32-byte Ed25519 public key, such as the author key of an
 * envelope; undefined when the bytes are not one.
 */
export function peerIdOfKey(raw: Uint8Array): string | undefined {
  try {
    const key = publicKeyFromRaw(raw)
    return key.type === 'Ed25519' ? peerIdFromPublicKey(key).toString() : undefined
  } catch {
    return undefined
  }
}

/**
 * The raw 32-byte Ed25519 public key of a peer id (the key its Noise handshake proved); undefined
 * for a peer id of another key type.
 */
export function ed25519KeyOf(peer: PeerId): Uint8Array | undefined {
  if (peer.type !== 'Ed25519') return undefined
  const raw = peer.publicKey?.raw
  return raw != null && raw.byteLength === 32 ? raw : undefined
}

/** Whether a string is a peer id (`12D3Koo…`). */
export function isPeerId(peer: string): boolean {
  try {
    peerIdFromString(peer)
    return true
  } catch {
    return false
  }
}
