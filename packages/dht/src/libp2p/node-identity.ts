/**
 * A node's identity outside a running node: the agent needs its node key before libp2p starts
 * (to check or issue its member certificate), and the team's tools turn peer ids into keys.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import { DHTConfigError } from '../errors.js'
import { loadOrCreatePeerKey } from './peer-key.js'

/** A node's Ed25519 public key (raw 32 bytes) and its peer id. */
export interface NodeIdentity {
  publicKey: Uint8Array
  peerId: string
}

/**
 * The identity a `LibP2PDHT` with this `dataDir` has (its `peer.key`, created when missing, as
 * the node itself would).
 * @throws DHTConfigError when the key file cannot be read or is not a libp2p key
 */
export async function loadNodeIdentity(dataDir: string): Promise<NodeIdentity> {
  const key = await loadOrCreatePeerKey(dataDir)
  if (key.type !== 'Ed25519') throw new DHTConfigError(`the node key must be Ed25519, got ${key.type}`)
  return { publicKey: key.publicKey.raw, peerId: peerIdFromPublicKey(key.publicKey).toString() }
}

/**
 * The peer id of a raw 32-byte Ed25519 public key.
 * @throws DHTConfigError when it is not 32 bytes
 */
export function peerIdOfNodeKey(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== 32) {
    throw new DHTConfigError('a node key is a 32-byte Ed25519 public key')
  }
  return peerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString()
}

/**
 * The raw Ed25519 public key inside a peer id (Ed25519 peer ids embed their key).
 * @throws DHTConfigError for a malformed peer id or one that is not Ed25519
 */
export function nodeKeyOfPeerId(peerId: string): Uint8Array {
  let id: ReturnType<typeof peerIdFromString>
  try {
    id = peerIdFromString(peerId)
  } catch (err) {
    throw new DHTConfigError('not a valid peer id', { cause: err })
  }
  if (id.type !== 'Ed25519' || id.publicKey === undefined) {
    throw new DHTConfigError('the peer id is not an Ed25519 peer id')
  }
  return id.publicKey.raw
}
