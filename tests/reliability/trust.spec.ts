// Team trust on a real network: four honest members whose every validator, admission and
// replication runs the team's policy (@chorus/team), and attackers on the same loopback network:
// an outsider with a certificate of another team, a read-only member, and a member ("mallory")
// who writes what its certificate does not allow, replays, equivocates and backdates. Every
// attempt is refused by every honest node; nothing it sent is stored, indexed or served; honest
// records stay readable and writable; the attacker loses reputation.
import { join } from 'node:path'
import {
  createLibP2PDHT,
  type LibP2PDHT,
  loadNodeIdentity,
  type NodeSigner,
  type RecordRules
} from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import {
  createReplicationManager,
  REPLICATE_PROTOCOL_SUFFIX,
  type ReplicationManager
} from '@chorus/replication'
import {
  chorusRecordRules,
  ENVELOPE_FORMAT,
  type EncryptedStorage,
  envelopeHash,
  headKey,
  RECORD_PROTOCOL,
  signEnvelope,
  versionKey
} from '@chorus/storage'
import {
  createManifest,
  createTeamMember,
  createTeamPolicy,
  generateTeamRoot,
  issueCertificate,
  type RoleRecipient,
  rootSigner,
  signManifest,
  type TeamPolicy,
  type TeamRoot,
  teamIdOf,
  teamRecordSelector,
  teamRecordValidator
} from '@chorus/team'
import { addressDigest, baseAddress, parseAddress } from '@chorus/ucxl'
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, nodeCrypto, startStorage, teamKeys, tempDir, text, utf8 } from './helpers.js'
import { createReport } from './report.js'

const report = createReport('trust')
const HONEST = 4
const MEMBERS: Array<[agent: string, role: string]> = [
  ['agent001', 'backend_developer'],
  ['architect01', 'senior_architect'],
  ['devops01', 'devops_engineer'],
  ['agent002', 'backend_developer']
]
/** The attackers' record rules: store and send anything under /CHORUS. */
const anything: RecordRules = { validators: { CHORUS: () => {} }, selectors: { CHORUS: () => 0 } }

interface Team {
  root: TeamRoot
  id: string
  manifest: Uint8Array
  policy(): TeamPolicy
  issue(agent: string, roles: string[], nodeKey: Uint8Array): Uint8Array
}

function makeTeam(keys: ReturnType<typeof teamKeys>): Team {
  const root = generateTeamRoot()
  const id = teamIdOf(root.publicKey)
  const recipients: Record<string, RoleRecipient[]> = {}
  for (const [role, key] of keys) {
    recipients[role] = [{ keyId: key.id, recipient: key.recipient, status: 'current', createdAt: Date.now() }]
  }
  const manifest = signManifest(createManifest({ team: id, recipients }), rootSigner(root))
  let serial = 0
  return {
    root,
    id,
    manifest,
    // each node its own policy object, as separate processes have
    policy: () => createTeamPolicy({ root: root.publicKey, manifest }),
    issue: (agent, roles, nodeKey) =>
      issueCertificate(
        { team: id, agent, roles, nodeKey, recipient: keys.get('observer')!.recipient, serial: ++serial },
        rootSigner(root)
      )
  }
}

describe('team trust (4 honest members; an outsider, a read-only member and a rogue member)', () => {
  const keys = teamKeys()
  const team = makeTeam(keys)
  const outsiders = makeTeam(teamKeys())
  const tmp = tempDir('chorus-rel-trust-')
  let net: TestNetwork
  const honest: EncryptedStorage[] = []
  const replication: ReplicationManager[] = []
  const policies: TeamPolicy[] = []
  const certs: Uint8Array[] = []
  let outsider: LibP2PDHT
  let observer: LibP2PDHT
  let mallory: LibP2PDHT
  let observerCert: Uint8Array
  let malloryCert: Uint8Array

  const nodes = (): LibP2PDHT[] => net.nodes.slice(0, HONEST)
  const rulesFor = (policy: TeamPolicy): RecordRules =>
    chorusRecordRules({
      authority: policy,
      fallbackValidator: teamRecordValidator(policy),
      fallbackSelector: teamRecordSelector(policy)
    })

  /** An attacker node: its own rules accept anything; it shows `certificate` and admits anyone. */
  const attacker = async (name: string, certificate: Uint8Array | undefined): Promise<LibP2PDHT> => {
    const node = await createLibP2PDHT({
      dataDir: join(tmp.dir, name),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrapPeers: net.bootstrapAddrs,
      records: anything,
      reputation: false,
      rateLimit: false,
      ...(certificate !== undefined
        ? {
            admission: {
              certificate: () => certificate,
              admit: () => ({ agent: '', roles: [], notAfter: Infinity })
            }
          }
        : {})
    })
    await node.start()
    await node.bootstrap().catch(() => undefined)
    return node
  }

  const forge = async (
    signer: NodeSigner,
    o: {
      address: string
      creatorRole: string
      certificate: Uint8Array | null
      content?: string
      version?: number
      previous?: Uint8Array | null
      timestamp?: number
    }
  ) => {
    const { crypto } = nodeCrypto(keys, [])
    const plaintext = utf8(o.content ?? 'forged')
    const ciphertext = await crypto.encryptUCXLContent(plaintext, o.creatorRole)
    const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', ciphertext))
    return signEnvelope(
      {
        format: ENVELOPE_FORMAT,
        address: baseAddress(parseAddress(o.address)),
        version: o.version ?? 1,
        metadata: {
          creatorRole: o.creatorRole,
          encryptedFor: crypto.decryptableRoles(o.creatorRole),
          contentType: 'decision',
          timestamp: o.timestamp ?? Date.now(),
          size: plaintext.byteLength,
          ciphertextHash: digest
        },
        ciphertext,
        author: signer.publicKey,
        previous: o.previous ?? null,
        certificate: o.certificate
      },
      signer
    )
  }
  const keysOf = (address: string, version = 1) => {
    const digest = addressDigest(parseAddress(address))
    return { head: headKey(digest), version: versionKey(digest, version) }
  }
  /** What each honest node's own record store holds for `key`. */
  const held = (key: string): Promise<Array<Uint8Array | undefined>> =>
    Promise.all(
      nodes().map(async (n) => (await n.getValues(key, { localOnly: true }).catch(() => []))[0]?.value)
    )
  const sameBytes = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
    a !== undefined && Buffer.from(a).equals(Buffer.from(b))
  /** A kad-dht PUT_VALUE from `from`: the number of honest peers that acknowledged it. */
  const kadPut = async (from: LibP2PDHT, key: string, value: Uint8Array): Promise<number> => {
    const res = await from
      .putValue(key, value, { signal: AbortSignal.timeout(15_000) })
      .catch(() => undefined)
    return res?.acks.filter((p) => nodes().some((n) => n.peerId === p)).length ?? 0
  }
  /** A direct-protocol push from `from` to honest node `to`: its answer, or 'refused' when the stream was. */
  const directPut = async (from: LibP2PDHT, to: number, key: string, value: Uint8Array) => {
    try {
      const res = await from.request(
        net.nodes[to]!.peerId,
        RECORD_PROTOCOL,
        cborEncode({ op: 'put', records: [{ key, value }] }),
        { signal: AbortSignal.timeout(10_000) }
      )
      return cborDecode(res) as { ok: boolean; code?: string }
    } catch {
      return { ok: false, code: 'STREAM_REFUSED' }
    }
  }
  /** A replicate-protocol push from `from` to honest node `to`: its answer. */
  const replicatePush = async (
    from: LibP2PDHT,
    to: number,
    key: string,
    value: Uint8Array,
    holders: string[] = []
  ): Promise<{ ok: boolean; code?: string; reason?: string }> => {
    try {
      const res = await from.request(
        net.nodes[to]!.peerId,
        `/CHORUS${REPLICATE_PROTOCOL_SUFFIX}`,
        cborEncode({ v: 1, key, value, priority: 1, ...(holders.length > 0 ? { holders } : {}) }),
        { signal: AbortSignal.timeout(10_000) }
      )
      return cborDecode(res) as { ok: boolean; code?: string; reason?: string }
    } catch {
      return { ok: false, code: 'STREAM_REFUSED' }
    }
  }
  const scores = (peer: string): number[] => nodes().map((n) => n.reputation?.score(peer) ?? 0)
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
  /** Every honest node indexed nothing of `agent`. */
  const indexedFor = async (agent: string): Promise<number> =>
    (await Promise.all(honest.map((s) => s.searchContent({ agent, limit: 100 })))).reduce(
      (a, l) => a + l.length,
      0
    )

  beforeAll(async () => {
    const dirs = Array.from({ length: HONEST }, (_, i) => join(tmp.dir, `honest-${i}`))
    const ids = await Promise.all(dirs.map((d) => loadNodeIdentity(d)))
    for (let i = 0; i < HONEST; i++) {
      policies.push(team.policy())
      certs.push(team.issue(MEMBERS[i]![0], [MEMBERS[i]![1]], ids[i]!.publicKey))
    }
    net = await startNetwork({
      nodes: HONEST,
      init: (i) => ({
        dataDir: dirs[i]!,
        records: rulesFor(policies[i]!),
        admission: createTeamMember({ policy: policies[i]!, certificate: certs[i]! }),
        // high enough that the refusals below are counted, not cut short by a ban
        reputation: { threshold: 1_000_000 },
        queryTimeout: 10_000
      })
    })
    for (let i = 0; i < HONEST; i++) {
      const node = net.nodes[i]!
      honest.push(
        await startStorage({
          dht: node,
          signer: node.signer,
          keys,
          plays: [MEMBERS[i]![1]],
          authority: policies[i]!,
          certificate: () => certs[i]!,
          peers: node,
          init: {
            dataDir: join(tmp.dir, `storage-${i}`),
            nodeId: node.peerId,
            writeQuorum: 2,
            readRepair: false
          }
        })
      )
    }
    for (let i = 0; i < HONEST; i++) {
      const node = net.nodes[i]!
      const rules = rulesFor(policies[i]!)
      const manager = createReplicationManager(
        {
          dht: node,
          messaging: node,
          validate: rules.validators.CHORUS!,
          select: rules.selectors.CHORUS!,
          succession: rules.succession!.CHORUS!,
          reputation: node.reputation!
        },
        {
          dataDir: join(tmp.dir, `replication-${i}`),
          replicationFactor: 3,
          repairInterval: 1_000,
          enableReprovide: false
        }
      )
      await manager.start()
      replication.push(manager)
    }
    const outsiderIdentity = await loadNodeIdentity(join(tmp.dir, 'outsider'))
    outsider = await attacker(
      'outsider',
      outsiders.issue('agent001', ['backend_developer'], outsiderIdentity.publicKey)
    )
    const observerIdentity = await loadNodeIdentity(join(tmp.dir, 'observer'))
    observerCert = team.issue('watcher', ['observer'], observerIdentity.publicKey)
    observer = await attacker('observer', observerCert)
    const malloryIdentity = await loadNodeIdentity(join(tmp.dir, 'mallory'))
    malloryCert = team.issue('mallory', ['backend_developer'], malloryIdentity.publicKey)
    mallory = await attacker('mallory', malloryCert)
    // members are admitted by every honest node
    await eventually(
      'observer and mallory admitted',
      () => nodes().every((n) => n.admittedPeer(observer.peerId) && n.admittedPeer(mallory.peerId)),
      20_000
    )
  }, 180_000)

  afterAll(async () => {
    await Promise.allSettled(replication.map((r) => r.stop()))
    await Promise.allSettled(honest.map((s) => s.stop()))
    await Promise.allSettled([outsider, observer, mallory].map((n) => n?.close()))
    await net?.stop()
    tmp.remove()
    report.flush()
  }, 60_000)

  it('an outsider (a certificate of another team) is admitted by no honest node; its writes reach none', async () => {
    const address = 'ucxl://agent001:backend_developer@trust:t/*^/outsider-target'
    await honest[0]!.storeUCXLContent(address, 'honest v1', 'backend_developer', 'text/plain')
    report.written()
    const k = keysOf(address, 2)
    const v1 = (await held(k.head))[0]!
    const forged = await forge(outsider.signer, {
      address,
      creatorRole: 'backend_developer',
      certificate: null,
      content: 'FORGED by an outsider',
      version: 2,
      previous: envelopeHash(v1),
      timestamp: 1
    })
    expect(await kadPut(outsider, k.head, forged.bytes)).toBe(0)
    report.badInput('outsider kad PUT_VALUE')
    for (let i = 0; i < HONEST; i++) {
      expect((await directPut(outsider, i, k.head, forged.bytes)).ok).toBe(false)
      report.badInput('outsider direct-protocol push')
    }
    for (const n of nodes()) {
      expect(n.admittedPeer(outsider.peerId)).toBeUndefined()
      expect(n.getConnectedPeers()).not.toContain(outsider.peerId)
    }
    for (const h of await held(k.head)) expect(sameBytes(h, forged.bytes)).toBe(false)
    const read = await honest[3]!.retrieveUCXLContent(address, { consistency: 'network' })
    report.read()
    expect(text(read.content)).toBe('honest v1')
    report.check('outsider not admitted, nothing stored')
  }, 120_000)

  it('a read-only member is admitted but every record it writes is refused by every honest node', async () => {
    const address = 'ucxl://watcher:observer@trust:t/*^/note'
    const k = keysOf(address)
    const forged = await forge(observer.signer, {
      address,
      creatorRole: 'observer',
      certificate: observerCert
    })
    const before = sum(scores(observer.peerId))
    expect(await kadPut(observer, k.version, forged.bytes)).toBe(0)
    expect(await kadPut(observer, k.head, forged.bytes)).toBe(0)
    report.badInput('read-only member kad PUT_VALUE', 2)
    for (let i = 0; i < HONEST; i++) {
      expect(await directPut(observer, i, k.head, forged.bytes)).toMatchObject({
        ok: false,
        code: 'INVALID_RECORD'
      })
      report.badInput('read-only member direct-protocol push')
    }
    for (const key of [k.head, k.version]) for (const h of await held(key)) expect(h).toBeUndefined()
    expect(await indexedFor('watcher')).toBe(0)
    await expect(honest[1]!.retrieveUCXLContent(address, { consistency: 'network' })).rejects.toThrow()
    expect(sum(scores(observer.peerId))).toBeGreaterThan(before)
    report.check('read-only member refused everywhere')
  }, 120_000)

  it("a member writing another agent's address (the forged early chain) or another role's address is refused; the author writes on", async () => {
    const address = 'ucxl://agent001:backend_developer@trust:t/*^/hijack'
    await honest[0]!.storeUCXLContent(address, 'honest v1', 'backend_developer', 'text/plain')
    report.written()
    const before = sum(scores(mallory.peerId))
    // a chain for agent001's address, backdated, pushed on every path
    let previous: Uint8Array | null = null
    for (const version of [1, 2, 3]) {
      const k = keysOf(address, version)
      const forged = await forge(mallory.signer, {
        address,
        creatorRole: 'backend_developer',
        certificate: malloryCert,
        content: `FORGED v${version}`,
        version,
        previous,
        timestamp: version
      })
      previous = forged.hash
      expect(await kadPut(mallory, k.version, forged.bytes)).toBe(0)
      expect(await kadPut(mallory, k.head, forged.bytes)).toBe(0)
      for (let i = 0; i < HONEST; i++) {
        expect((await directPut(mallory, i, k.head, forged.bytes)).ok).toBe(false)
      }
      report.badInput("member writes another agent's address", 2 + HONEST)
      for (const h of await held(k.head)) expect(h === undefined || !sameBytes(h, forged.bytes)).toBe(true)
    }
    // another role's address, and a creatorRole that is not the address's role
    for (const [addr, creatorRole] of [
      ['ucxl://mallory:senior_architect@trust:t/*^/not-my-role', 'senior_architect'],
      ['ucxl://mallory:backend_developer@trust:t/*^/mixed', 'senior_architect']
    ] as const) {
      const k = keysOf(addr)
      const forged = await forge(mallory.signer, { address: addr, creatorRole, certificate: malloryCert })
      expect(await kadPut(mallory, k.head, forged.bytes)).toBe(0)
      for (const h of await held(k.head)) expect(h).toBeUndefined()
      report.badInput("member writes another role's address")
    }
    expect(await indexedFor('mallory')).toBe(0)
    // the author's next store succeeds, and a fresh reader gets the honest chain
    const v2 = await honest[0]!.storeUCXLContent(address, 'honest v2', 'backend_developer', 'text/plain')
    report.written()
    expect(v2.version).toBe(2)
    const read = await honest[2]!.retrieveUCXLContent(address, { consistency: 'network' })
    report.read()
    expect(text(read.content)).toBe('honest v2')
    expect(read.metadata.version).toBe(2)
    expect(sum(scores(mallory.peerId))).toBeGreaterThan(before)
    report.check('hijack refused, author writes on')
  }, 180_000)

  it('a replayed older head is refused as stale; an equivocating or backdated version is refused and charged to its author', async () => {
    const address = 'ucxl://agent001:backend_developer@trust:t/*^/replay'
    await honest[0]!.storeUCXLContent(address, 'honest v1', 'backend_developer', 'text/plain')
    // (only v1 exists yet: whichever node holds a head holds v1)
    const v1 = (await held(keysOf(address).head)).find((h) => h !== undefined)!
    await honest[0]!.storeUCXLContent(address, 'honest v2', 'backend_developer', 'text/plain')
    report.written(2)
    const k = keysOf(address, 2)
    // a node the store did not push to may still hold v1 for a while: v2 is the head that is not v1
    const newer = (h: Uint8Array | undefined): h is Uint8Array => h !== undefined && !sameBytes(h, v1)
    await eventually(
      'v2 held by the closest nodes',
      async () => (await held(k.head)).filter(newer).length >= 2
    )
    const heldBefore = await held(k.head)
    const v2 = heldBefore.find(newer)!
    // mallory relays the older head: refused as stale, costs nothing (honest peers may hold it)
    const replayBefore = sum(scores(mallory.peerId))
    await kadPut(mallory, k.head, v1)
    for (let i = 0; i < HONEST; i++) await directPut(mallory, i, k.head, v1)
    report.badInput('replayed older head', 1 + HONEST)
    // every node that held v2 still holds v2
    const heldAfter = await held(k.head)
    heldBefore.forEach((h, i) => {
      if (h !== undefined && sameBytes(h, v2)) expect(sameBytes(heldAfter[i], v2)).toBe(true)
    })
    // (points only decay between the two readings)
    expect(sum(scores(mallory.peerId))).toBeLessThanOrEqual(replayBefore)

    // mallory's own address: v1 accepted, then a different, backdated v1 (equivocation)
    const own = 'ucxl://mallory:backend_developer@trust:t/*^/own'
    const ko = keysOf(own)
    const first = await forge(mallory.signer, {
      address: own,
      creatorRole: 'backend_developer',
      certificate: malloryCert,
      content: 'first'
    })
    expect(await kadPut(mallory, ko.version, first.bytes)).toBeGreaterThan(0)
    expect(await kadPut(mallory, ko.head, first.bytes)).toBeGreaterThan(0)
    report.written()
    const before = sum(scores(mallory.peerId))
    const second = await forge(mallory.signer, {
      address: own,
      creatorRole: 'backend_developer',
      certificate: malloryCert,
      content: 'second, backdated',
      timestamp: 1
    })
    // on the direct protocol first: refused as an equivocation, and charged to its author there too
    for (let i = 0; i < HONEST; i++) {
      const answer = await directPut(mallory, i, ko.head, second.bytes)
      expect(answer.ok).toBe(false)
    }
    const afterDirect = sum(scores(mallory.peerId))
    expect(afterDirect).toBeGreaterThan(before)
    expect(await kadPut(mallory, ko.version, second.bytes)).toBe(0)
    expect(await kadPut(mallory, ko.head, second.bytes)).toBe(0)
    report.badInput('equivocating backdated version', 2 + HONEST)
    for (const key of [ko.version, ko.head]) {
      for (const h of await held(key)) expect(h === undefined || sameBytes(h, first.bytes)).toBe(true)
    }
    // charged to the author (here also the sender)
    expect(sum(scores(mallory.peerId))).toBeGreaterThan(before)
    // a reader gets the first copy
    const read = await honest[3]!.retrieveUCXLContent(own, { consistency: 'network' })
    report.read()
    expect(text(read.content)).toBe('first')
    report.check('replay stale, equivocation refused and charged')
  }, 180_000)

  it('the replicate protocol: refused records are not pinned; a forged holder claim counts nobody who cannot prove possession', async () => {
    // a read-only member's record pushed for replication: refused by every node, pinned by none
    const ro = 'ucxl://watcher:observer@trust:t/*^/replicate-me'
    const kr = keysOf(ro)
    const bad = await forge(observer.signer, {
      address: ro,
      creatorRole: 'observer',
      certificate: observerCert
    })
    for (let i = 0; i < HONEST; i++) {
      const answer = await replicatePush(observer, i, kr.head, bad.bytes)
      expect(answer.ok).toBe(false)
      // a fixed text: nothing of the pushed record or the validator's reasoning comes back
      expect(JSON.stringify(answer)).not.toMatch(/watcher|observer|certificate|read.only/i)
      report.badInput('read-only member replicate push')
    }
    for (const r of replication) expect(r.listContent()).not.toContain(kr.head)

    // mallory's own, valid record, pushed to one node with a list of "holders" that hold nothing
    const own = 'ucxl://mallory:backend_developer@trust:t/*^/claimed'
    const ko = keysOf(own)
    const rec = await forge(mallory.signer, {
      address: own,
      creatorRole: 'backend_developer',
      certificate: malloryCert
    })
    const target = 0
    const claimed = nodes()
      .slice(1)
      .map((n) => n.peerId)
    const answer = await replicatePush(mallory, target, ko.head, rec.bytes, claimed)
    expect(answer.ok).toBe(true)
    report.badInput('forged holder claim')
    // whenever the status counts a holder, that holder holds exactly these bytes
    const holdsIt = async (peer: string): Promise<boolean> => {
      const i = nodes().findIndex((n) => n.peerId === peer)
      if (i < 0) return peer === mallory.peerId // the pusher itself does hold it
      return sameBytes((await held(ko.head))[i], rec.bytes)
    }
    const deadline = Date.now() + 30_000
    let healthy = false
    while (Date.now() < deadline) {
      const status = await replication[target]!.getReplicationStatus(ko.head, {
        signal: AbortSignal.timeout(10_000)
      })
      for (const p of status.providers.filter(
        (x) => x.live && x.proven && x.peerId !== net.nodes[target]!.peerId
      )) {
        expect(await holdsIt(p.peerId), `counted holder ${p.peerId.slice(-6)} holds the record`).toBe(true)
      }
      if (status.health === 'healthy') {
        healthy = true
        break
      }
      await new Promise((r) => setTimeout(r, 500))
    }
    // repair put real copies on honest nodes: the key is healthy on holders that hold it
    expect(healthy).toBe(true)
    expect(
      (await held(ko.head)).filter((h) => h !== undefined && sameBytes(h, rec.bytes)).length
    ).toBeGreaterThanOrEqual(2)
    report.check('forged holder claim counts no one')
  }, 120_000)

  it('an unsolicited push flood is cut off by the rate limit, costs the flooder, and honest work goes on', async () => {
    const own = 'ucxl://mallory:backend_developer@trust:t/*^/flood'
    const ko = keysOf(own)
    const rec = await forge(mallory.signer, {
      address: own,
      creatorRole: 'backend_developer',
      certificate: malloryCert
    })
    const before = sum(scores(mallory.peerId))
    const answers: Array<{ ok: boolean; code?: string }> = []
    const PUSHES = 4_000
    let next = 0
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < PUSHES) {
          next++
          answers.push(await replicatePush(mallory, 1, ko.head, rec.bytes))
        }
      })
    )
    report.badInput('unsolicited replicate push (flood)', PUSHES)
    const limited = answers.filter((a) => !a.ok).length
    report.note(
      `push flood: ${PUSHES} pushes to one node, ${limited} refused (rate limit), the rest a repeat of one valid record`
    )
    expect(limited).toBeGreaterThan(0)
    expect(sum(scores(mallory.peerId))).toBeGreaterThan(before)
    // honest work meanwhile
    const address = 'ucxl://agent002:backend_developer@trust:t/*^/during-flood'
    await honest[3]!.storeUCXLContent(address, 'still works', 'backend_developer', 'text/plain')
    report.written()
    const read = await honest[1]!.retrieveUCXLContent(address)
    report.read()
    expect(text(read.content)).toBe('still works')
    report.check('push flood limited')
  }, 120_000)
})
