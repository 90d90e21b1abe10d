// A record received over a real libp2p network is verified (decoded, its signature checked) once
// per node, however many paths it takes in: the direct push of the writer's quorum, the kad-dht
// PUT_VALUE, the read's candidates and chain walk, indexing. Each node has its own authority (as
// separate processes do), which counts how often the write rule judged a record: the number of
// full verifications every path made before the memo.
import { join } from 'node:path'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { decode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveAddress } from '../src/address.js'
import { encodeMessage, RECORD_PROTOCOL } from '../src/direct/index.js'
import {
  chorusRecordRules,
  type EncryptedStorage,
  encodeEnvelope,
  headKey,
  openEnvelope
} from '../src/index.js'
import { verifiedRecordsOf, type WriteAuthority } from '../src/record-check.js'
import { startStorage, teamKeys } from './fixtures.js'
import { ageShaped, tempDir } from './helpers.js'
import { TestTeam } from './team-authority.js'

const ADDRESS = 'ucxl://agent001:backend_developer@project123:task456/verify-once'
const HEAD = headKey(resolveAddress(ADDRESS).digest)

describe('a received record is verified once per node (3 libp2p nodes, team mode)', () => {
  const keys = teamKeys()
  const team = new TestTeam()
  const tmp = tempDir()
  const judged = [0, 0, 0]
  const authorities: WriteAuthority[] = judged.map((_, i) => ({
    authorizeWrite: (record) => {
      judged[i]!++
      return team.authority.authorizeWrite(record)
    }
  }))
  const roles = ['backend_developer', 'senior_architect', 'devops_engineer']
  let net: TestNetwork
  const storages: EncryptedStorage[] = []

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 3,
      init: (i) => ({ records: chorusRecordRules({ authority: authorities[i] }) })
    })
    for (let i = 0; i < 3; i++) {
      const node = net.nodes[i]!
      const certificate = team.issue(`agent00${i + 1}`, [roles[i]!], node.signer.publicKey)
      storages.push(
        await startStorage({
          dht: node,
          signer: node.signer,
          keys,
          plays: [roles[i]!],
          authority: authorities[i],
          certificate: () => certificate,
          init: { dataDir: join(tmp.dir, `node${i}`), nodeId: node.peerId, writeQuorum: 2 }
        })
      )
    }
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(storages.map((s) => s.stop()))
    await net?.stop()
    tmp.remove()
  }, 60_000)

  it('counts the checks of one record on its way in and the signature verifications they cost', async () => {
    const stored = await storages[0]!.storeUCXLContent(ADDRESS, 'v1', 'backend_developer', 'text/plain')
    const v2 = await storages[0]!.storeUCXLContent(ADDRESS, 'v2', 'backend_developer', 'text/plain')
    expect(v2.version).toBe(2)
    // node 1 reads the latest: candidates from its own store and its peers, the chain walk to v1
    const read = await storages[1]!.retrieveUCXLContent(
      'ucxl://agent001:backend_developer@project123:task456/*^/verify-once'
    )
    expect(new TextDecoder().decode(read.content)).toBe('v2')
    await new Promise((r) => setTimeout(r, 500))
    const memo = verifiedRecordsOf(authorities[1])
    const { verified, hits } = memo.stats()
    // two distinct records (v1 and v2, each under its version key and the head key) came in
    expect(stored.version).toBe(1)
    expect(read.metadata.version).toBe(2)
    expect(verified).toBe(2)
    expect(judged[1]).toBeGreaterThanOrEqual(4)
    expect(hits).toBe(judged[1]! - verified)
    // the writer vouched for what it signed: its own record store's checks verified nothing again
    const writer = verifiedRecordsOf(authorities[0]).stats()
    expect(writer.verified).toBe(0)
    expect(writer.hits).toBeGreaterThanOrEqual(4)

    // a mutated copy pushed over the direct protocol: checked in full and refused
    const [held] = await net.nodes[1]!.getValues(HEAD, { localOnly: true })
    const envelope = openEnvelope(held!.value)
    const mutated = encodeEnvelope({ ...envelope, ciphertext: ageShaped('mutated') })
    const res = decode(
      await net.nodes[2]!.request(
        net.nodes[1]!.peerId,
        RECORD_PROTOCOL,
        encodeMessage({ op: 'put', records: [{ key: HEAD, value: mutated }] })
      )
    ) as { ok: boolean }
    expect(res.ok).toBe(false)
    expect(memo.stats().verified).toBe(verified + 1)
  }, 120_000)
})
