import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@chorus/common'
import { afterAll, describe, expect, it } from 'vitest'
import { type AgentComponents, startComponents, stopSteps } from '../src/agent/components.js'
import { AgentKeys, type CryptoConfig, LOCAL_RECIPIENTS, loadCryptoState } from '../src/agent/crypto-state.js'
import { ConfigError } from '../src/errors.js'

const dirs: string[] = []
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chorus-crypto-state-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const config = (keysDir: string, over: Partial<CryptoConfig> = {}): CryptoConfig => ({
  role: 'backend_developer',
  rolesFile: '',
  keys: { dir: keysDir, recipients: [], generate: true },
  ...over
})

describe('crypto state', () => {
  it('a lone agent generates its own and its readers’ keys, and can encrypt and decrypt', async () => {
    const keys = join(dir(), 'keys')
    const state = await loadCryptoState(config(keys), silentLogger)
    expect(state.held).toContain('backend_developer')
    expect(state.registry.has('backend_developer')).toBe(true)
    const ct = await state.crypto.encryptUCXLContent(new TextEncoder().encode('hi'), 'backend_developer')
    const { plaintext } = await state.crypto.decryptWithRole(ct)
    expect(new TextDecoder().decode(plaintext)).toBe('hi')
    // a second load reuses the keys it saved
    const again = await loadCryptoState(config(keys), silentLogger)
    expect(again.keyring.roles()).toEqual(state.keyring.roles())
    expect(existsSync(join(keys, LOCAL_RECIPIENTS))).toBe(true)
  })

  it('refuses an unknown role and a missing identity when generation is off', async () => {
    await expect(
      loadCryptoState(config(join(dir(), 'k'), { role: 'astronaut' }), silentLogger)
    ).rejects.toSatisfy((err) => ConfigError.isInstance(err) && /astronaut/.test((err as Error).message))
    await expect(
      loadCryptoState(
        config(join(dir(), 'k'), { keys: { dir: join(dir(), 'k'), recipients: [], generate: false } }),
        silentLogger
      )
    ).rejects.toSatisfy((err) => ConfigError.isInstance(err))
  })

  it('AgentKeys: not ready before the first load; a failed reload keeps the current state', async () => {
    const keys = new AgentKeys(silentLogger)
    const storage = keys.storageComponents()
    expect(keys.held).toEqual([])
    expect(() => storage.roles.has('backend_developer')).toThrow(
      expect.objectContaining({ code: 'AGENT_NOT_READY' })
    )
    const d = dir()
    await keys.reload(config(join(d, 'keys')))
    expect(storage.keyring.holdsRole('backend_developer')).toBe(true)
    const badRoles = join(d, 'roles.yaml')
    writeFileSync(badRoles, 'roles: [1\n')
    await expect(keys.reload(config(join(d, 'keys'), { rolesFile: badRoles }))).rejects.toSatisfy((err) =>
      ConfigError.isInstance(err)
    )
    expect(storage.roles.canStore('backend_developer')).toBe(true)
  })
})

describe('component order', () => {
  it('starts in one order and stops in its reverse', async () => {
    const calls: string[] = []
    const part = (name: string, stop = 'stop') => ({
      start: async () => void calls.push(`start ${name}`),
      [stop]: async () => void calls.push(`stop ${name}`)
    })
    const c = {
      local: part('local', 'close'),
      libp2p: part('libp2p', 'close'),
      hybrid: part('hybrid'),
      storage: part('storage'),
      replication: part('replication')
    } as unknown as AgentComponents
    await startComponents(c)
    for (const step of stopSteps(c)) await step.run()
    expect(calls).toEqual([
      'start local',
      'start libp2p',
      'start hybrid',
      'start storage',
      'start replication',
      'stop replication',
      'stop storage',
      'stop hybrid',
      'stop libp2p',
      'stop local'
    ])
    expect(stopSteps(undefined)).toEqual([])
  })
})

describe('a team member’s crypto state after a rotation', () => {
  it('new content goes only to the keys the manifest names; a held retired identity still opens old content', async () => {
    const { createKeyring, generateRoleKey, keyIdOf } = await import('@chorus/crypto')
    const { createManifest, createTeamPolicy, generateTeamRoot, rootSigner, signManifest, teamIdOf } =
      await import('@chorus/team')
    const { loadTeamCryptoState } = await import('../src/agent/crypto-state.js')
    const keys = join(dir(), 'keys')
    const old = generateRoleKey('backend_developer')
    const next = generateRoleKey('backend_developer')
    const ring = createKeyring()
    ring.addIdentity(old) // the identity file says "current"
    await ring.saveIdentities(keys)
    const root = generateTeamRoot()
    const entry = (k: typeof old, status: 'current' | 'retired') => ({
      keyId: keyIdOf(k.recipient),
      recipient: k.recipient,
      status,
      createdAt: 1,
      ...(status === 'retired' ? { retiredAt: 2 } : {})
    })
    const manifest = signManifest(
      createManifest({
        team: teamIdOf(root.publicKey),
        recipients: { backend_developer: [entry(old, 'retired'), entry(next, 'current')] }
      }),
      rootSigner(root)
    )
    const policy = createTeamPolicy({ root: root.publicKey, manifest })
    const state = await loadTeamCryptoState(config(keys), policy, silentLogger)
    expect(state.keyring.currentKeys('backend_developer').map((k) => k.recipient)).toEqual([next.recipient])
    // new content: not for the old key
    const ct = await state.crypto.encryptForRoles('new', ['backend_developer'])
    await expect(state.crypto.decryptWithRole(ct)).rejects.toThrow()
    // old content (to the old key) still opens
    const oldRing = createKeyring()
    oldRing.addRecipient('backend_developer', old.recipient)
    const { createAgeCrypto } = await import('@chorus/crypto')
    const oldCt = await createAgeCrypto({ roles: state.registry, keyring: oldRing }).encryptForRoles('old', [
      'backend_developer'
    ])
    expect(new TextDecoder().decode((await state.crypto.decryptWithRole(oldCt)).plaintext)).toBe('old')
  })
})
