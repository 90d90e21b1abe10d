/** The public metadata of a version, from its envelope or from its index row. */
import { formatAddress } from '@chorus/ucxl'
import type { UCXLAddress } from './address.js'
import type { Envelope } from './envelope.js'
import type { IndexRow } from './index-db.js'
import type { UCXLMetadata } from './types.js'

/** Lowercase hex of bytes. */
export const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** The metadata of envelope `e` (at `parsed`), with its hash and the peers known to hold it. */
export function envelopeMetadata(
  parsed: UCXLAddress,
  e: Envelope,
  hash: Uint8Array,
  peers: string[],
  replicationFactor: number
): UCXLMetadata {
  return {
    address: formatAddress({ ...parsed, temporal: { kind: 'version', n: e.version } }),
    baseAddress: e.address,
    version: e.version,
    creatorRole: e.metadata.creatorRole,
    encryptedFor: [...e.metadata.encryptedFor],
    contentType: e.metadata.contentType,
    timestamp: e.metadata.timestamp,
    size: e.metadata.size,
    hash: hex(e.metadata.ciphertextHash),
    envelopeHash: hex(hash),
    previous: e.previous === null ? null : hex(e.previous),
    author: hex(e.author),
    dhtPeers: peers,
    replicationFactor
  }
}

/** The metadata of an index row, with the peers known to hold it (the index itself does not know). */
export function rowMetadata(row: IndexRow, replicationFactor: number, peers: string[] = []): UCXLMetadata {
  const parsed: UCXLAddress = {
    agent: row.agent,
    role: row.role,
    project: row.project,
    task: row.task,
    path: row.path,
    temporal: { kind: 'version', n: Number(row.version) }
  }
  return {
    address: formatAddress(parsed),
    baseAddress: row.address,
    version: Number(row.version),
    creatorRole: row.creator_role,
    encryptedFor: JSON.parse(row.encrypted_for) as string[],
    contentType: row.content_type,
    timestamp: Number(row.timestamp),
    size: Number(row.size),
    hash: row.ciphertext_hash,
    envelopeHash: row.envelope_hash,
    previous: row.previous,
    author: row.author,
    dhtPeers: peers,
    replicationFactor
  }
}
