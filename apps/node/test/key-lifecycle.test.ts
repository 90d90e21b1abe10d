/**
 * The key lifecycle on real agents (separate processes): a key grant published through an agent
 * reaches its member, which installs it and reads what it could not; a revocation disconnects the
 * revoked member everywhere, its new records are refused even when a member relays them, and what
 * is written after it does not open with its keys while the remaining members read everything; a
 * scheduled rotation with an overlap window.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAgeCrypto, createKeyring, createRoleRegistry, DecryptionDeniedError } from '@chorus/crypto'
import { headKey, openEnvelope } from '@chorus/storage'
import { createTeamPolicy, parseTeamId } from '@chorus/team'
import { addressDigest, parseAddress } from '@chorus/ucxl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Intruder, startIntruder } from '../src/demo/intruder.js'
import { admitMember } from '../src/team/admin.js'
import { readTeamFile } from '../src/team/files.js'
import {
  type AgentProcess,
  dialAddress,
  fastEnv,
  makeTeam,
  runCli,
  startAgentProcess,
  stopAllAgents,
  type Team,
  waitFor
} from './helpers.js'

type Status = {
  network: { connectedPeers: number; dht: { routingTableSize: number } }
  team: {
    manifestVersion: number
    grantVersion: number
    revocations: { version: number; revoked: string[] }
    roleKeys: Record<string, { current: Array<{ keyId: string; createdAt: string }>; retired: number }>
  }
}
const OLD = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'
const NEW = 'ucxl://agent001:backend_developer@project123:task456/*^/after-revocation'
const OVERLAP = 'ucxl://agent001:backend_developer@project123:task456/*^/during-overlap'
const DEVOPS1_NOTE = 'ucxl://devops1:devops_engineer@project123:task456/*^/note'

describe('grant, revoke and rotate on running agents', () => {
  let team: Team
  let writer: AgentProcess
  let devops1: AgentProcess
  let devops2: AgentProcess
  let reader: AgentProcess
  let relay: Intruder | undefined
  const shares = (): string[] => team.shares.slice(0, 3).flatMap((f) => ['--share', f])
  const read = async (a: AgentProcess, address: string) =>
    a.api<{ content?: string; error?: { code: string } }>(
      'GET',
      `/v1/content?address=${encodeURIComponent(address)}&fresh=true`
    )
  const status = async (a: AgentProcess) => (await a.api<Status>('GET', '/v1/status')).body

  beforeAll(async () => {
    team = await makeTeam(
      ['backend_developer', 'devops_engineer', 'devops_engineer'],
      ['backend_developer', 'devops1', 'devops2']
    )
    // a senior architect admitted without any role key: keys reach it only by a grant
    await admitMember({
      dir: team.teamDir,
      shares: team.shares.slice(1, 4),
      agent: 'reader01',
      roles: ['senior_architect'],
      member: team.dataDir('reader')
    })
    const env = (role: string, peers: string[]) =>
      fastEnv({ CHORUS_ROLE: role, CHORUS_BOOTSTRAP_PEERS: peers.join(',') })
    writer = await startAgentProcess({
      name: 'writer',
      dataDir: team.dataDir('backend_developer'),
      env: env('backend_developer', [])
    })
    const boot = [dialAddress(writer.info)]
    ;[devops1, devops2, reader] = await Promise.all([
      startAgentProcess({
        name: 'devops1',
        dataDir: team.dataDir('devops1'),
        env: env('devops_engineer', boot)
      }),
      startAgentProcess({
        name: 'devops2',
        dataDir: team.dataDir('devops2'),
        env: env('devops_engineer', boot)
      }),
      startAgentProcess({
        name: 'reader',
        dataDir: team.dataDir('reader'),
        env: env('senior_architect', boot)
      })
    ])
    for (const a of [writer, devops1, devops2, reader]) {
      const ok = await waitFor(async () => {
        const n = (await status(a)).network
        return n.connectedPeers >= 3 && n.dht.routingTableSize >= 3
      }, 90_000)
      expect(ok, `${a.name} found its peers`).toBe(true)
    }
    const stored = await writer.api('POST', '/v1/content', { address: OLD, content: 'written before' })
    expect(stored.status, JSON.stringify(stored.body)).toBe(201)
  }, 300_000)

  afterAll(async () => {
    await relay?.close()
    await stopAllAgents()
    team?.cleanup()
  }, 60_000)

  it('a grant published through an agent reaches its member, which then reads what it could not', async () => {
    const before = await read(reader, OLD)
    expect(before.status).toBe(403)
    const res = await runCli([
      'team',
      'grant',
      'reader01',
      'senior_architect',
      '--dir',
      team.teamDir,
      ...shares(),
      '--publish',
      '--data-dir',
      writer.dataDir,
      '--json'
    ])
    expect(res.code, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout) as {
      granted: Array<{ agent: string; version: number }>
      published: unknown
    }
    expect(out.granted).toEqual([{ agent: 'reader01', version: 1, roles: ['senior_architect'] }])
    expect(out.published).toMatchObject({ count: 1 })
    const after = await waitFor(async () => {
      const r = await read(reader, OLD)
      return r.status === 200 ? r : undefined
    }, 60_000)
    expect(after?.body.content).toBe('written before')
    expect((await status(reader)).team.grantVersion).toBe(1)
  }, 120_000)

  it('a revocation disconnects the member everywhere; new content does not open for it, the others read everything', async () => {
    const res = await runCli([
      'team',
      'revoke',
      'devops1',
      '--dir',
      team.teamDir,
      ...shares(),
      '--publish',
      '--data-dir',
      writer.dataDir,
      '--json'
    ])
    expect(res.code, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout) as {
      manifestVersion: number
      revocationsVersion: number
      rotated: Array<{ role: string; keyId: string }>
      granted: Array<{ agent: string }>
    }
    expect(out.revocationsVersion).toBe(1)
    expect(out.rotated.map((r) => r.role)).toEqual(['devops_engineer'])
    expect(out.granted.map((g) => g.agent)).toEqual(['devops2'])
    const newKey = out.rotated[0]?.keyId
    // every remaining member takes the list and the manifest; devops2 installs the new key
    for (const a of [writer, devops2, reader]) {
      const ok = await waitFor(async () => {
        const t = (await status(a)).team
        return t.revocations.version === 1 && t.roleKeys.devops_engineer?.current[0]?.keyId === newKey
      }, 60_000)
      expect(ok, `${a.name} took the revocation and the rotation`).toBe(true)
    }
    expect(await waitFor(async () => (await status(devops2)).team.grantVersion === 1, 60_000)).toBe(true)
    // nobody keeps devops1 connected
    for (const a of [writer, devops2, reader]) {
      const gone = await waitFor(async () => {
        const peers = (await a.api<{ peers: Array<{ id: string }> }>('GET', '/v1/peers')).body.peers
        return !peers.some((p) => p.id === devops1.info.peerId)
      }, 30_000)
      expect(gone, `${a.name} hung up on devops1`).toBe(true)
    }
    // content written after the revocation: the remaining members read it, and the old content too
    const stored = await writer.api('POST', '/v1/content', { address: NEW, content: 'written after' })
    expect(stored.status, JSON.stringify(stored.body)).toBe(201)
    for (const a of [devops2, reader]) {
      const r = await waitFor(async () => {
        const got = await read(a, NEW)
        return got.status === 200 ? got : undefined
      }, 30_000)
      expect(r?.body.content, `${a.name} reads the new content`).toBe('written after')
      expect((await read(a, OLD)).body.content, `${a.name} reads the old content`).toBe('written before')
    }
    // the new record, fetched from the network by a member, does not open with devops1's keys
    relay = await startRelay()
    const envelope = openEnvelope(await relay.dht.getValue(headKey(addressDigest(parseAddress(NEW)))))
    await expect(decryptWith(devops1.dataDir, envelope.ciphertext)).rejects.toSatisfy((e) =>
      DecryptionDeniedError.isInstance(e)
    )
    expect(await decryptWith(devops2.dataDir, envelope.ciphertext)).toBe('written after')
    // and it does not reach devops1 at all
    expect((await read(devops1, NEW)).status).not.toBe(200)
  }, 240_000)

  it('a revoked member that keeps trying: its writes reach no one, and a member relaying them is refused', async () => {
    // through its own agent: refused there, or kept alone
    const put = await devops1.api('POST', '/v1/content', { address: DEVOPS1_NOTE, content: 'still here' })
    expect([201, 403, 503]).toContain(put.status)
    for (const a of [writer, devops2, reader]) expect((await read(a, DEVOPS1_NOTE)).status).toBe(404)
    expect((await read(devops1, NEW)).status).not.toBe(200)
    // it signs a record itself, and an admitted member (relay01) carries it into the network
    const certificate = readFileSync(join(devops1.dataDir, 'team', 'certificate'))
    // its node key, in a directory of its own (the running agent holds its datastore)
    const forgerDir = join(team.root, 'devops1-forger')
    mkdirSync(join(forgerDir, 'libp2p'), { recursive: true, mode: 0o700 })
    copyFileSync(join(devops1.dataDir, 'libp2p', 'peer.key'), join(forgerDir, 'libp2p', 'peer.key'))
    const forger = await intruderFor(forgerDir, new Uint8Array(certificate), [])
    try {
      const forged = await forger.forge({
        address: DEVOPS1_NOTE,
        creatorRole: 'devops_engineer',
        content: 'relayed'
      })
      relay ??= await startRelay()
      // the relay's own record gets through (the path works) ...
      const own = await relay.forge({
        address: 'ucxl://relay01:backend_developer@project123:task456/*^/note',
        creatorRole: 'backend_developer',
        content: 'a member writes'
      })
      expect((await relay.put(own.head.key, own.head.value))?.acks.length ?? 0).toBeGreaterThan(0)
      // ... the revoked member's does not
      const acks = (await relay.put(forged.head.key, forged.head.value))?.acks.length ?? 0
      expect(acks).toBe(0)
    } finally {
      await forger.close()
    }
    for (const a of [writer, devops2, reader]) expect((await read(a, DEVOPS1_NOTE)).status).toBe(404)
    // still hung up on by everyone
    for (const a of [writer, devops2, reader]) {
      const peers = (await a.api<{ peers: Array<{ id: string }> }>('GET', '/v1/peers')).body.peers
      expect(peers.some((p) => p.id === devops1.info.peerId)).toBe(false)
    }
  }, 120_000)

  it('a rotation with an overlap: a new current key, and new content still opens with the old key until the window ends', async () => {
    const oldKeyDir = join(team.root, 'old-architect-key')
    cpSync(join(team.teamDir, 'role-keys', 'senior_architect'), oldKeyDir, { recursive: true })
    const res = await runCli([
      'team',
      'rotate',
      'senior_architect',
      '--overlap',
      '1h',
      '--dir',
      team.teamDir,
      ...shares(),
      '--publish',
      '--data-dir',
      writer.dataDir,
      '--json'
    ])
    expect(res.code, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout) as {
      rotated: Array<{ keyId: string }>
      granted: Array<{ agent: string }>
    }
    expect(out.granted.map((g) => g.agent)).toEqual(['reader01'])
    const newKey = out.rotated[0]?.keyId
    const ok = await waitFor(
      async () => (await status(writer)).team.roleKeys.senior_architect?.current[0]?.keyId === newKey,
      60_000
    )
    expect(ok).toBe(true)
    const shown = await runCli(['status', '--data-dir', writer.dataDir, '--json'])
    const t = (JSON.parse(shown.stdout) as Status).team
    expect(t.roleKeys.senior_architect?.current).toEqual([{ keyId: newKey, createdAt: expect.any(String) }])
    expect(t.roleKeys.senior_architect?.retired).toBe(1)
    const stored = await writer.api('POST', '/v1/content', {
      address: OVERLAP,
      content: 'during the overlap'
    })
    expect(stored.status, JSON.stringify(stored.body)).toBe(201)
    // the reader (granted the new key) reads it; the old key alone opens it too, within the window
    const r = await waitFor(async () => {
      const got = await read(reader, OVERLAP)
      return got.status === 200 ? got : undefined
    }, 30_000)
    expect(r?.body.content).toBe('during the overlap')
    relay ??= await startRelay()
    const envelope = openEnvelope(await relay.dht.getValue(headKey(addressDigest(parseAddress(OVERLAP)))))
    expect(await decryptWithKeys(oldKeyDir, envelope.ciphertext)).toBe('during the overlap')
  }, 120_000)

  /** An admitted member that relays records (and fetches them) without rules of its own. */
  async function startRelay(): Promise<Intruder> {
    const dir = team.dataDir('relay')
    const admitted = await admitMember({
      dir: team.teamDir,
      shares: team.shares.slice(2, 5),
      agent: 'relay01',
      roles: ['backend_developer'],
      member: dir
    })
    return intruderFor(dir, admitted.certificate, [dialAddress(writer.info)])
  }

  async function intruderFor(
    dataDir: string,
    certificate: Uint8Array,
    bootstrapPeers: string[]
  ): Promise<Intruder> {
    const file = readTeamFile(team.teamDir)!
    const policy = createTeamPolicy({ root: parseTeamId(file.team), manifest: file.manifest })
    const intruder = await startIntruder({
      dataDir: join(dataDir, 'libp2p'),
      certificate,
      roles: policy.roleRegistry(),
      recipients: (role) => policy.recipients(role),
      bootstrapPeers
    })
    if (bootstrapPeers.length > 0) {
      await waitFor(async () => intruder.dht.getConnectedPeers().length > 0, 20_000)
      await new Promise((r) => setTimeout(r, 1_500)) // admission both ways
    }
    return intruder
  }
})

async function decryptWithKeys(keysDir: string, ciphertext: Uint8Array): Promise<string> {
  const keyring = createKeyring()
  await keyring.loadIdentities(keysDir)
  const crypto = createAgeCrypto({ roles: createRoleRegistry(), keyring })
  return new TextDecoder().decode((await crypto.decryptWithRole(ciphertext)).plaintext)
}

function decryptWith(dataDir: string, ciphertext: Uint8Array): Promise<string> {
  return decryptWithKeys(join(dataDir, 'keys'), ciphertext)
}
