import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { LibP2PDHT, NodeSigner } from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { decode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveAddress } from '../src/address.js'
import { encodeMessage, RECORD_PROTOCOL } from '../src/direct/index.js'
import { sha256 } from '../src/envelope.js'
import {
  AccessDeniedError,
  chorusRecordRules,
  ENVELOPE_FORMAT,
  type EncryptedStorage,
  envelopeHash,
  headKey,
  IntegrityError,
  openEnvelope,
  signEnvelope,
  versionKey
} from '../src/index.js'
import { nodeCrypto, startStorage, teamKeys } from './fixtures.js'
import { ageShaped, tempDir } from './helpers.js'
import { TestTeam } from './team-authority.js'

const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const HONEST = [0, 1, 2] as const

/**
 * Four real LibP2PDHT nodes on 127.0.0.1: nodes 0 to 2 are honest team members (agent001 as
 * backend_developer, agent002 as senior_architect, agent003 as devops_engineer) whose DHT and
 * storage run the team's write rule; node 3 is an insider gone bad (agent666, a certificate for
 * frontend_developer and observer) whose own DHT accepts anything signed (open mode), so it can
 * push forged records on the direct protocol and in kad PUT_VALUE.
 */
describe('team mode on a 4-node libp2p network: the write rule and the succession rule', () => {
  const keys = teamKeys()
  const team = new TestTeam()
  const tmp = tempDir()
  let net: TestNetwork
  let attacker: LibP2PDHT
  const storages: EncryptedStorage[] = []
  const certificates: (Uint8Array | undefined)[] = []

  /** A record signed by `signer` (arbitrary ciphertext unless given), as the attacker builds them. */
  async function forge(
    signer: NodeSigner,
    o: {
      address: string
      creatorRole: string
      certificate: Uint8Array | null
      version?: number
      previous?: Uint8Array | null
      timestamp?: number
      ciphertext?: Uint8Array
      size?: number
    }
  ) {
    const ciphertext = o.ciphertext ?? ageShaped(randomBytes(64))
    return signEnvelope(
      {
        format: ENVELOPE_FORMAT,
        address: resolveAddress(o.address).base,
        version: o.version ?? 1,
        metadata: {
          creatorRole: o.creatorRole,
          encryptedFor: [o.creatorRole],
          contentType: 'decision',
          timestamp: o.timestamp ?? Date.now(),
          size: o.size ?? 10,
          ciphertextHash: sha256(ciphertext)
        },
        ciphertext,
        author: signer.publicKey,
        certificate: o.certificate,
        previous: o.previous ?? null
      },
      signer
    )
  }

  /** The attacker pushes one record to a node over the direct protocol; the node's answer. */
  async function push(to: number, key: string, value: Uint8Array): Promise<Record<string, unknown>> {
    const res = await attacker.request(
      net.nodes[to]!.peerId,
      RECORD_PROTOCOL,
      encodeMessage({ op: 'put', records: [{ key, value }] })
    )
    return decode(res) as Record<string, unknown>
  }

  /** What node n holds for `key` in its own record store. */
  async function held(n: number, key: string): Promise<Uint8Array | undefined> {
    const [v] = await net.nodes[n]!.getValues(key, { localOnly: true }).catch(() => [])
    return v?.value
  }

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 4,
      records: chorusRecordRules({ authority: team.authority }),
      // the refusals below would get the attacker banned (and then refused before any rule runs)
      init: (i) => (i === 3 ? { records: chorusRecordRules() } : { reputation: { threshold: 1_000_000 } })
    })
    attacker = net.nodes[3]!
    const members: [string, string][] = [
      ['agent001', 'backend_developer'],
      ['agent002', 'senior_architect'],
      ['agent003', 'devops_engineer']
    ]
    for (const i of HONEST) {
      const node = net.nodes[i]!
      const [agent, role] = members[i]!
      certificates[i] = team.issue(agent, [role], node.signer.publicKey)
      storages[i] = await startStorage({
        dht: node,
        signer: node.signer,
        keys,
        plays: [role],
        authority: team.authority,
        certificate: () => certificates[i],
        init: { dataDir: join(tmp.dir, `node${i}`), nodeId: node.peerId, writeQuorum: 2, directReadPeers: 3 }
      })
    }
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(storages.map((s) => s.stop()))
    await net?.stop()
    tmp.remove()
  }, 60_000)

  it('refuses, on every node, by the direct protocol and kad PUT, every record the write rule forbids; stores, indexes and returns none', async () => {
    const a = attacker.signer
    const own = team.issue('agent666', ['frontend_developer', 'observer'], a.publicKey)
    const path = (who: string, what: string) => `ucxl://${who}@project123:task456/*^/${what}`
    const cases: { what: string; address: string; creatorRole: string; certificate: Uint8Array | null }[] = [
      {
        what: 'no certificate',
        address: path('agent666:frontend_developer', 'no-cert'),
        creatorRole: 'frontend_developer',
        certificate: null
      },
      {
        what: "another agent's address",
        address: path('agent001:backend_developer', 'not-yours'),
        creatorRole: 'backend_developer',
        certificate: team.issue('agent666', ['backend_developer', 'frontend_developer'], a.publicKey)
      },
      {
        what: "another role's address",
        address: path('agent666:senior_architect', 'not-your-role'),
        creatorRole: 'senior_architect',
        certificate: own
      },
      {
        what: 'a creatorRole other than the address role',
        address: path('agent666:frontend_developer', 'mixed-roles'),
        creatorRole: 'backend_developer',
        certificate: team.issue('agent666', ['frontend_developer', 'backend_developer'], a.publicKey)
      },
      {
        what: 'a read-only role',
        address: path('agent666:observer', 'read-only'),
        creatorRole: 'observer',
        certificate: own
      },
      {
        what: 'a certificate the team root did not sign',
        address: path('agent666:frontend_developer', 'self-signed'),
        creatorRole: 'frontend_developer',
        certificate: TestTeam.forge('agent666', ['frontend_developer'], a.publicKey)
      },
      {
        what: "another node's certificate",
        address: path('agent001:backend_developer', 'stolen-cert'),
        creatorRole: 'backend_developer',
        certificate: certificates[0]!
      }
    ]
    const refusedBefore = team.judged.refused
    const scoreBefore = net.nodes[0]!.reputation!.score(attacker.peerId)
    for (const c of cases) {
      const { bytes } = await forge(a, c)
      const r = resolveAddress(c.address)
      const keys = [versionKey(r.digest, 1), headKey(r.digest)]
      for (const n of HONEST) {
        for (const key of keys) {
          expect(await push(n, key, bytes), `${c.what}: node ${n}`).toEqual({
            ok: false,
            code: 'INVALID_RECORD',
            error: 'the record failed validation'
          })
        }
      }
      for (const key of keys) {
        await expect(attacker.putValue(key, bytes), c.what).rejects.toMatchObject({
          name: 'NoPeersAcknowledgedError'
        })
      }
      for (const n of HONEST) {
        for (const key of keys) expect(await held(n, key), `${c.what}: node ${n} holds it`).toBeUndefined()
        const s = storages[n]!
        await expect(s.indexEnvelope(bytes), c.what).rejects.toBeInstanceOf(IntegrityError)
        await expect(s.retrieveUCXLContent(c.address), c.what).rejects.toMatchObject({
          name: 'ContentNotFoundError'
        })
        expect(await s.searchContent({ address: r.base, allVersions: true })).toEqual([])
      }
    }
    expect(team.judged.refused).toBeGreaterThan(refusedBefore)
    // each refused record cost the attacker reputation
    expect(net.nodes[0]!.reputation!.score(attacker.peerId)).toBeGreaterThan(scoreBefore)

    // the control: the attacker's own record, as its certificate allows, is taken by every node
    const control = path('agent666:frontend_developer', 'allowed')
    const { bytes } = await forge(a, {
      address: control,
      creatorRole: 'frontend_developer',
      certificate: own
    })
    const cr = resolveAddress(control)
    for (const n of HONEST) expect(await push(n, versionKey(cr.digest, 1), bytes)).toEqual({ ok: true })
    for (const n of HONEST) expect(await held(n, versionKey(cr.digest, 1))).toEqual(bytes)
  })

  it("the issue's scenario: a forger's early-timestamped chain for someone else's address does not take the head; the author writes on", async () => {
    const [author, architect, devops] = storages as [EncryptedStorage, EncryptedStorage, EncryptedStorage]
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/hijack'
    const r = resolveAddress(address)
    for (const n of [1, 2]) {
      await author.storeUCXLContent(address, `honest ${n}`, 'backend_developer', 'text/plain')
    }
    const v2 = (await held(0, versionKey(r.digest, 2)))!
    const ownerKey = hex(net.nodes[0]!.signer.publicKey)
    // the forger signs its own chain for the address, backdated to the epoch, with no certificate
    // or with its own (which names agent666), and a version 3 chained to the honest version 2
    const a = attacker.signer
    for (const certificate of [null, team.issue('agent666', ['backend_developer'], a.publicKey)]) {
      const f1 = await forge(a, { address, creatorRole: 'backend_developer', certificate, timestamp: 1 })
      const f2 = await forge(a, {
        address,
        creatorRole: 'backend_developer',
        certificate,
        version: 2,
        previous: f1.hash,
        timestamp: 2
      })
      const f3 = await forge(a, {
        address,
        creatorRole: 'backend_developer',
        certificate,
        version: 3,
        previous: envelopeHash(v2),
        timestamp: 3
      })
      for (const [v, f] of [
        [1, f1],
        [2, f2],
        [3, f3]
      ] as const) {
        for (const n of HONEST) {
          expect((await push(n, versionKey(r.digest, v), f.bytes)).code).toBe('INVALID_RECORD')
          expect((await push(n, headKey(r.digest), f.bytes)).code).toBe('INVALID_RECORD')
        }
        await expect(attacker.putValue(headKey(r.digest), f.bytes)).rejects.toMatchObject({
          name: 'NoPeersAcknowledgedError'
        })
      }
    }
    for (const n of HONEST) {
      const head = openEnvelope((await held(n, headKey(r.digest)))!)
      expect(head.version, `node ${n}`).toBe(2)
      expect(hex(head.author)).toBe(ownerKey)
      expect(await held(n, versionKey(r.digest, 3))).toBeUndefined()
    }
    for (const consistency of ['closest', 'network'] as const) {
      architect.invalidateCache(address)
      const got = await architect.retrieveUCXLContent(address, { consistency })
      expect(text(got.content)).toBe('honest 2')
      expect(got.metadata.author).toBe(ownerKey)
    }
    // the author's next store succeeds and is read by the others
    const stored = await author.storeUCXLContent(address, 'honest 3', 'backend_developer', 'text/plain')
    expect(stored.version).toBe(3)
    expect(text((await devops.retrieveUCXLContent(address)).content)).toBe('honest 3')
  })

  it('a replayed older head is refused as stale; an equivocating copy of a version is refused and the first stays', async () => {
    const [author, architect] = storages as [EncryptedStorage, EncryptedStorage]
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/replay'
    const r = resolveAddress(address)
    for (const n of [1, 2, 3])
      await author.storeUCXLContent(address, `replay ${n}`, 'backend_developer', 'text/plain')
    const v1 = (await held(0, versionKey(r.digest, 1)))!
    const v2 = (await held(0, versionKey(r.digest, 2)))!
    // the replay: a genuine, older head
    for (const n of HONEST) {
      expect(await push(n, headKey(r.digest), v1)).toMatchObject({ ok: false, code: 'STALE_RECORD' })
    }
    await expect(attacker.putValue(headKey(r.digest), v1)).rejects.toMatchObject({
      name: 'NoPeersAcknowledgedError'
    })
    for (const n of HONEST) expect(openEnvelope((await held(n, headKey(r.digest)))!).version).toBe(3)

    // equivocation: the author's key signs a second, different version 2 (a buggy or compromised
    // author; anyone may relay it): valid by the write rule, but version 2 already exists
    const e2 = openEnvelope(v2)
    const other = await forge(net.nodes[0]!.signer, {
      address,
      creatorRole: 'backend_developer',
      certificate: certificates[0]!,
      version: 2,
      previous: envelopeHash(v1),
      timestamp: e2.metadata.timestamp - 60_000
    })
    await author.whenIdle()
    for (const n of HONEST) {
      expect(await held(n, versionKey(r.digest, 2)), `node ${n} holds version 2`).toEqual(v2)
      expect(await push(n, versionKey(r.digest, 2), other.bytes), `node ${n}`).toMatchObject({
        ok: false,
        code: 'EQUIVOCATION'
      })
      expect(await held(n, versionKey(r.digest, 2))).toEqual(v2)
      // under the head (version 3 held) it is stale
      expect((await push(n, headKey(r.digest), other.bytes)).code).toBe('STALE_RECORD')
    }
    const got = await architect.retrieveUCXLContent(address.replace('*^', '*~2'))
    expect(text(got.content)).toBe('replay 2')
    expect(got.metadata.envelopeHash).toBe(hex(envelopeHash(v2)))
  })

  it('a backdated copy wins nothing: the lowest hash decides between copies of one version', async () => {
    const [author, , devops] = storages as [EncryptedStorage, EncryptedStorage, EncryptedStorage]
    const address = 'ucxl://agent001:backend_developer@project123:task456/*^/backdated'
    const r = resolveAddress(address)
    await author.storeUCXLContent(address, 'first', 'backend_developer', 'text/plain')
    const v1 = (await held(0, versionKey(r.digest, 1)))!
    // two real copies of version 2 by the author (real age ciphertext, so readers can open them);
    // the backdated one is made to have the higher hash, which the old timestamp rule would pick
    const { crypto } = nodeCrypto(keys, ['backend_developer'])
    const copy = async (content: string, timestamp: number) => {
      const data = new TextEncoder().encode(content)
      return forge(net.nodes[0]!.signer, {
        address,
        creatorRole: 'backend_developer',
        certificate: certificates[0]!,
        version: 2,
        previous: envelopeHash(v1),
        timestamp,
        ciphertext: await crypto.encryptUCXLContent(data, 'backend_developer'),
        size: data.byteLength
      })
    }
    const honest = await copy('current', Date.now())
    let backdated = await copy('backdated', 1)
    for (let t = 2; Buffer.compare(backdated.hash, honest.hash) < 0; t++)
      backdated = await copy('backdated', t)
    // one node holds each copy (as if the author equivocated to different peers)
    await net.nodes[1]!.putValue(headKey(r.digest), honest.bytes, { localOnly: true })
    await net.nodes[1]!.putValue(versionKey(r.digest, 2), honest.bytes, { localOnly: true })
    await net.nodes[2]!.putValue(headKey(r.digest), backdated.bytes, { localOnly: true })
    await net.nodes[2]!.putValue(versionKey(r.digest, 2), backdated.bytes, { localOnly: true })
    // the DHT's selector, over every peer's answer
    const best = await net.nodes[0]!.getValue(headKey(r.digest))
    expect(Buffer.from(best).equals(honest.bytes)).toBe(true)
    // a reader that has not seen version 2
    const got = await devops.retrieveUCXLContent(address, { consistency: 'network' })
    expect(got.metadata.version).toBe(2)
    expect(text(got.content)).toBe('current')
  })

  it('store policy: a store the node’s own certificate does not allow is refused before anything is encrypted or sent; a reloaded certificate is used', async () => {
    const architect = storages[1]!
    const devops = storages[2]!
    const notMine = 'ucxl://agent001:senior_architect@project123:task456/*^/not-mine'
    const before = architect.getMetrics().encryptionOps
    const err = await architect
      .storeUCXLContent(notMine, 'x', 'senior_architect', 'text/plain')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AccessDeniedError)
    expect((err as AccessDeniedError).code).toBe('UCXL-403-ACCESS_DENIED')
    expect(architect.getMetrics().encryptionOps).toBe(before)
    const r = resolveAddress(notMine)
    for (const n of [0, 1, 2, 3]) expect(await held(n, headKey(r.digest))).toBeUndefined()

    // no certificate (say, before a reload delivered it): refused; once it is there, stored
    const mine = 'ucxl://agent003:devops_engineer@project123:task456/*^/reload'
    const cert = certificates[2]
    certificates[2] = undefined
    await expect(devops.storeUCXLContent(mine, 'x', 'devops_engineer', 'text/plain')).rejects.toBeInstanceOf(
      AccessDeniedError
    )
    certificates[2] = cert
    const stored = await devops.storeUCXLContent(mine, 'reloaded', 'devops_engineer', 'text/plain')
    expect(stored.version).toBe(1)
    const m = resolveAddress(mine)
    const e = openEnvelope((await held(2, versionKey(m.digest, 1)))!)
    expect(Buffer.from(e.certificate!).equals(cert!)).toBe(true)
  })
})
