import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createLibP2PDHT,
  DHTConfigError,
  loadNodeIdentity,
  nodeKeyOfPeerId,
  peerIdOfNodeKey
} from '../src/index.js'
import { signerFromKey } from '../src/libp2p/peer-key.js'
import { permissiveRecords } from '../src/testing/index.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('node identity', () => {
  it('is the identity the node itself starts with, and converts both ways', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chorus-node-id-'))
    dirs.push(dir)
    const before = await loadNodeIdentity(dir)
    const node = await createLibP2PDHT({ dataDir: dir, records: permissiveRecords })
    try {
      expect(node.peerId).toBe(before.peerId)
      expect(Buffer.from(node.signer.publicKey).equals(before.publicKey)).toBe(true)
    } finally {
      await node.close()
    }
    expect(peerIdOfNodeKey(before.publicKey)).toBe(before.peerId)
    expect(Buffer.from(nodeKeyOfPeerId(before.peerId)).equals(before.publicKey)).toBe(true)
  })

  it('refuses what is not an Ed25519 key or peer id', () => {
    expect(() => peerIdOfNodeKey(new Uint8Array(31))).toThrow(DHTConfigError)
    expect(() => nodeKeyOfPeerId('not-a-peer-id')).toThrow(DHTConfigError)
    // an RSA-style (sha256 multihash) peer id embeds no key
    expect(() => nodeKeyOfPeerId('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N')).toThrow(DHTConfigError)
  })
})

describe('the node signer', () => {
  it("signs as the libp2p key itself does (one key object, not one per signature), verifiably with the node's public key", async () => {
    const key = await generateKeyPair('Ed25519')
    const signer = signerFromKey(key)
    const data = new TextEncoder().encode('chorus-audit-checkpoint/2\n0\n1\nab')
    const sig = await signer.sign(data)
    expect(sig).toEqual(new Uint8Array(await key.sign(data))) // Ed25519 is deterministic
    expect(await key.publicKey.verify(data, sig)).toBe(true)
    expect(signer.publicKey).toEqual(key.publicKey.raw)
  })
})
