import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@chorus/common'
import { createLocalDHT, loadNodeIdentity } from '@chorus/dht'
import { chorusRecordRules } from '@chorus/storage'
import {
  createManifest,
  InvalidSharesError,
  openManifest,
  parseTeamId,
  signManifest,
  teamManifestKey,
  teamRecordSelector,
  teamRecordValidator,
  withTeamRoot
} from '@chorus/team'
import { afterAll, describe, expect, it } from 'vitest'
import { ManifestSync } from '../src/agent/manifest-sync.js'
import { loadAgentTeam, type TeamConfig } from '../src/agent/team.js'
import { ConfigError } from '../src/errors.js'
import { admitMember, initTeam, showTeam } from '../src/team/admin.js'
import { readTeamFile } from '../src/team/files.js'
import { runCli } from './helpers.js'

const roots: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'chorus-team-test-'))
  roots.push(d)
  return d
}
afterAll(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true })
})

const config = (dataDir: string, over: Partial<TeamConfig> = {}): TeamConfig => ({
  role: 'backend_developer',
  agentId: '',
  rolesFile: '',
  keys: { dir: join(dataDir, 'keys'), recipients: [], generate: true },
  team: { dir: join(dataDir, 'team'), root: '', embedded: true },
  ...over
})

describe('team init and admit (3 of 5 shares)', () => {
  it('makes a team whose root is never written whole, and admits a member with any 3 shares', async () => {
    const root = tempDir()
    const admin = join(root, 'admin')
    const made = await initTeam({ dir: admin })
    expect(made.shareFiles).toHaveLength(5)
    for (const f of made.shareFiles) expect(statSync(f).mode & 0o777).toBe(0o600)
    // no file holds the root's private key
    expect(existsSync(join(admin, 'root.key'))).toBe(false)
    const member = join(root, 'm1')
    const res = await admitMember({
      dir: admin,
      shares: [made.shareFiles[4]!, made.shareFiles[1]!, made.shareFiles[2]!],
      agent: 'agent001',
      roles: ['backend_developer'],
      member,
      withRoleKeys: true
    })
    expect(res.serial).toBe(1)
    const node = await loadNodeIdentity(join(member, 'libp2p'))
    expect(res.peerId).toBe(node.peerId)
    // the member's own files: the team, its certificate, its role's identity
    expect(readTeamFile(join(member, 'team'))?.team).toBe(made.team)
    expect(readdirKeys(join(member, 'keys'))).toContain('backend_developer.key')
    const team = await loadAgentTeam(config(member), node, silentLogger)
    expect(team.certificate.agent).toBe('agent001')
    expect(team.embedded).toBe(false)
    expect(team.policy.teamId).toBe(made.team)
    // the predefined roles, as the seed's example has them
    expect(new Set(team.policy.roleRegistry().decryptableRoles('backend_developer'))).toEqual(
      new Set(['backend_developer', 'senior_architect', 'devops_engineer'])
    )
  })

  it('refuses two shares, a role the manifest lacks, and a second team in the same directory', async () => {
    const root = tempDir()
    const admin = join(root, 'admin')
    const made = await initTeam({ dir: admin })
    await expect(
      admitMember({
        dir: admin,
        shares: made.shareFiles.slice(0, 2),
        agent: 'agent001',
        roles: ['backend_developer'],
        member: join(root, 'm')
      })
    ).rejects.toBeInstanceOf(InvalidSharesError)
    await expect(
      admitMember({
        dir: admin,
        shares: made.shareFiles,
        agent: 'a',
        roles: ['no_such_role'],
        member: join(root, 'm')
      })
    ).rejects.toBeInstanceOf(ConfigError)
    await expect(initTeam({ dir: admin })).rejects.toBeInstanceOf(ConfigError)
    expect(showTeam(admin)).toMatchObject({ team: made.team, manifestVersion: 1 })
  })

  it("an agent refuses a certificate that is not its own: another node's, another agent id, another role, another team", async () => {
    const root = tempDir()
    const admin = join(root, 'admin')
    const made = await initTeam({ dir: admin })
    const shares = made.shareFiles.slice(0, 3)
    const a = join(root, 'a')
    await admitMember({ dir: admin, shares, agent: 'agent001', roles: ['backend_developer'], member: a })
    const nodeA = await loadNodeIdentity(join(a, 'libp2p'))
    const nodeB = await loadNodeIdentity(join(root, 'b', 'libp2p'))
    await expect(loadAgentTeam(config(a), nodeB, silentLogger)).rejects.toThrow(/another node key/)
    await expect(loadAgentTeam(config(a, { agentId: 'agent002' }), nodeA, silentLogger)).rejects.toThrow(
      /certificate is for agent agent001/
    )
    await expect(loadAgentTeam(config(a, { role: 'senior_architect' }), nodeA, silentLogger)).rejects.toThrow(
      /not one of this agent's certificate roles/
    )
    const other = await initTeam({ dir: join(root, 'other') })
    await expect(
      loadAgentTeam(
        config(a, { team: { dir: join(a, 'team'), root: other.team, embedded: true } }),
        nodeA,
        silentLogger
      )
    ).rejects.toBeInstanceOf(ConfigError)
    // not admitted at all, no embedded team allowed
    await expect(
      loadAgentTeam(
        config(join(root, 'c'), { team: { dir: join(root, 'c', 'team'), root: '', embedded: false } }),
        nodeB,
        silentLogger
      )
    ).rejects.toThrow(/no team/)
  })
})

describe('embedded team', () => {
  it('is made on first start from the agent alone, kept across restarts, and names its agent and role', async () => {
    const dataDir = tempDir()
    const node = await loadNodeIdentity(join(dataDir, 'libp2p'))
    const first = await loadAgentTeam(config(dataDir, { agentId: 'agent001' }), node, silentLogger)
    expect(first.embedded).toBe(true)
    expect(first.certificate).toMatchObject({ agent: 'agent001', roles: ['backend_developer'] })
    expect(statSync(join(dataDir, 'team', 'root.key')).mode & 0o777).toBe(0o600)
    // its manifest names the recipients it generated for every reader of its content
    for (const role of ['backend_developer', 'senior_architect', 'devops_engineer']) {
      expect(first.policy.recipients(role).length).toBe(1)
    }
    const again = await loadAgentTeam(config(dataDir, { agentId: 'agent001' }), node, silentLogger)
    expect(again.policy.teamId).toBe(first.policy.teamId)
    expect(Buffer.from(again.member.certificate()).equals(Buffer.from(first.member.certificate()))).toBe(true)
  })
})

describe('the manifest on the DHT', () => {
  it('takes only a higher version signed by the root, writes team.json and rebuilds; refuses another root', async () => {
    const root = tempDir()
    const admin = join(root, 'admin')
    const made = await initTeam({ dir: admin })
    const member = join(root, 'm')
    await admitMember({
      dir: admin,
      shares: made.shareFiles.slice(0, 3),
      agent: 'agent001',
      roles: ['backend_developer'],
      member
    })
    const node = await loadNodeIdentity(join(member, 'libp2p'))
    const team = await loadAgentTeam(config(member), node, silentLogger)
    const rules = chorusRecordRules({
      authority: team.policy,
      fallbackValidator: teamRecordValidator(team.policy),
      fallbackSelector: teamRecordSelector(team.policy)
    })
    const dht = createLocalDHT({ dataDir: join(root, 'dht'), records: rules })
    await dht.start()
    let rebuilt = 0
    const lifecycle = { signal: new AbortController().signal, every: () => {}, stopping: false }
    const sync = new ManifestSync(
      { dht, team, lifecycle, logger: silentLogger },
      { interval: 60_000, teamDir: join(member, 'team'), onManifest: async () => void rebuilt++ }
    )
    try {
      await sync.run()
      // the network holds what this agent published: nothing newer
      expect(await sync.refresh()).toBe(false)
      // the admins sign version 2 (3 other shares): a new role
      const v1 = openManifest(team.policy.manifestBytes, parseTeamId(made.team))
      const shareTexts = made.shareFiles.slice(2, 5).map((f) => readFileSync(f, 'utf8').trim())
      const v2 = await withTeamRoot(shareTexts, async (signer) =>
        signManifest(
          createManifest({
            team: made.team,
            version: 2,
            roles: {
              ...v1.roles,
              auditor: { authority: 'read_only', canDecrypt: ['*'], description: 'reads all' }
            },
            recipients: v1.recipients
          }),
          signer
        )
      )
      await dht.putValue(teamManifestKey(made.team), v2)
      expect(await sync.refresh()).toBe(true)
      expect(team.policy.manifest.version).toBe(2)
      expect(rebuilt).toBe(1)
      const saved = readTeamFile(join(member, 'team'))
      expect(saved && Buffer.from(saved.manifest).equals(Buffer.from(v2))).toBe(true)
      // a manifest of another root under this team's key never gets in
      const other = await initTeam({ dir: join(root, 'other') })
      const foreign = readTeamFile(join(root, 'other'))!.manifest
      await expect(dht.putValue(teamManifestKey(made.team), foreign)).rejects.toThrow()
      expect(other.team).not.toBe(made.team)
      expect(await sync.refresh()).toBe(false)
      expect(team.policy.manifest.version).toBe(2)
    } finally {
      await dht.close()
    }
  })
})

describe('chorus-node team (CLI)', () => {
  it('init, admit with three share files, show', async () => {
    const root = tempDir()
    const admin = join(root, 'admin')
    const init = await runCli(['team', 'init', '--dir', admin, '--json'])
    expect(init.code).toBe(0)
    const made = JSON.parse(init.stdout) as { team: string; shareFiles: string[] }
    expect(made.shareFiles).toHaveLength(5)
    const admit = await runCli([
      'team',
      'admit',
      '--dir',
      admin,
      ...made.shareFiles.slice(1, 4).flatMap((f) => ['--share', f]),
      '--agent',
      'agent001',
      '--roles',
      'backend_developer',
      '--member',
      join(root, 'm'),
      '--json'
    ])
    expect(admit.code, admit.stderr).toBe(0)
    expect(JSON.parse(admit.stdout)).toMatchObject({
      agent: 'agent001',
      roles: ['backend_developer'],
      serial: 1
    })
    const tooFew = await runCli([
      'team',
      'admit',
      '--dir',
      admin,
      '--share',
      made.shareFiles[0]!,
      '--agent',
      'agent002',
      '--roles',
      'backend_developer',
      '--member',
      join(root, 'n')
    ])
    expect(tooFew.code).not.toBe(0)
    // the refusal does not print a share
    expect(tooFew.stderr + tooFew.stdout).not.toContain(readFileSync(made.shareFiles[0]!, 'utf8').trim())
    const show = await runCli(['team', 'show', '--dir', admin, '--json'])
    expect(JSON.parse(show.stdout)).toMatchObject({ team: made.team, manifestVersion: 1 })
  }, 60_000)
})

function readdirKeys(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : []
}

describe('the key lifecycle in the team directory (offline)', () => {
  it('grant, revoke and rotate keep who holds which role and sign what the network needs', async () => {
    const { grantRole, revokeMember, rotateRole, teamRecords } = await import('../src/team/lifecycle.js')
    const { readRoster } = await import('../src/team/roster.js')
    const root = tempDir()
    const admin = join(root, 'admin')
    const made = await initTeam({ dir: admin })
    const shares = made.shareFiles.slice(0, 3)
    for (const [agent, role] of [
      ['agent001', 'backend_developer'],
      ['devops1', 'devops_engineer'],
      ['devops2', 'devops_engineer']
    ] as const) {
      await admitMember({
        dir: admin,
        shares,
        agent,
        roles: [role],
        member: join(root, agent),
        withRoleKeys: true
      })
    }
    await admitMember({
      dir: admin,
      shares,
      agent: 'reader',
      roles: ['senior_architect'],
      member: join(root, 'r')
    })
    expect(readRoster(admin).get('reader')).toMatchObject({ keyRoles: [], serials: [4], revoked: false })
    await expect(
      grantRole({ dir: admin, shares, agent: 'nobody', role: 'senior_architect' })
    ).rejects.toBeInstanceOf(ConfigError)
    await expect(
      grantRole({ dir: admin, shares: shares.slice(0, 2), agent: 'reader', role: 'senior_architect' })
    ).rejects.toBeInstanceOf(InvalidSharesError)
    const granted = await grantRole({ dir: admin, shares, agent: 'reader', role: 'senior_architect' })
    expect(granted.granted).toEqual([{ agent: 'reader', version: 1, roles: ['senior_architect'] }])
    const revoked = await revokeMember({ dir: admin, shares, agent: 'devops1' })
    expect(revoked).toMatchObject({ revocationsVersion: 1, manifestVersion: 2 })
    expect(revoked.rotated.map((r) => r.role)).toEqual(['devops_engineer'])
    expect(revoked.granted.map((g) => g.agent)).toEqual(['devops2'])
    expect(revoked.records.map((r) => r.kind)).toEqual(['revocations', 'manifest', 'grant'])
    expect(readRoster(admin).get('devops1')?.revoked).toBe(true)
    await expect(revokeMember({ dir: admin, shares, agent: 'devops1' })).rejects.toBeInstanceOf(ConfigError)
    await expect(
      grantRole({ dir: admin, shares, agent: 'devops1', role: 'qa_engineer' })
    ).rejects.toBeInstanceOf(ConfigError)
    const rotated = await rotateRole({ dir: admin, shares, role: 'senior_architect', overlapMs: 3_600_000 })
    expect(rotated.manifestVersion).toBe(3)
    expect(rotated.granted).toEqual([{ agent: 'reader', version: 2, roles: ['senior_architect'] }])
    const shown = showTeam(admin) as { roles: Array<{ name: string; currentKeys: string[] }> }
    expect(shown.roles.find((r) => r.name === 'senior_architect')?.currentKeys).toEqual([
      rotated.rotated[0]?.keyId
    ])
    // the latest of each record, for `team publish`
    const records = teamRecords(admin)
    expect(records.map((r) => `${r.kind}:${r.agent ?? ''}:${r.version}`).sort()).toEqual(
      ['grant:devops2:1', 'grant:reader:2', 'manifest::3', 'revocations::1'].sort()
    )
  }, 60_000)

  it('the CLI refuses a bad overlap, too few shares (without printing one) and publishing with no agent', async () => {
    const root = tempDir()
    const admin = join(root, 'admin')
    const made = await initTeam({ dir: admin })
    const badOverlap = await runCli([
      'team',
      'rotate',
      'qa_engineer',
      '--dir',
      admin,
      '--share',
      made.shareFiles[0]!,
      '--overlap',
      'soon'
    ])
    expect(badOverlap.code).toBe(2)
    const few = await runCli([
      'team',
      'rotate',
      'qa_engineer',
      '--dir',
      admin,
      '--share',
      made.shareFiles[0]!,
      '--json'
    ])
    expect(few.code).not.toBe(0)
    expect(few.stderr + few.stdout).not.toContain(readFileSync(made.shareFiles[0]!, 'utf8').trim())
    const alone = await runCli(['team', 'publish', '--dir', admin, '--data-dir', join(root, 'no-agent')])
    expect(alone.code).toBe(5)
  }, 60_000)
})
