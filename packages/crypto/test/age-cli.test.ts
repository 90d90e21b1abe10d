import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgeCrypto, createKeyring, DecryptionDeniedError, type RoleKey } from '../src/index.js'
import { makeCluster, requireAgeTool } from './helpers.js'

// Compatibility with the reference `age` command-line tool (Debian package `age`). These tests
// fail, never skip, when the tool cannot be found or installed.

const dir = mkdtempSync(join(tmpdir(), 'chorus-agecli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let age = ''
const cluster = makeCluster()
const keyFiles = new Map<string, string>()

beforeAll(async () => {
  age = requireAgeTool()
  // One identity file per role, written by our keyring.
  for (const [role, key] of cluster.keys) {
    const ring = createKeyring()
    ring.addIdentity(key)
    const [path] = await ring.saveIdentities(join(dir, role))
    keyFiles.set(role, path as string)
  }
}, 300_000)

const run = (args: string[], input: Uint8Array) => execFileSync(age, args, { input, maxBuffer: 64 << 20 })

describe('age command-line tool', () => {
  it('is installed', () => {
    expect(run(['--version'], new Uint8Array()).toString()).toMatch(/\d+\.\d+/)
  })

  it.each([
    ['binary', false],
    ['armored', true]
  ])('decrypts our %s backend_developer records with each permitted role key', async (_kind, armor) => {
    const data = randomBytes(3000)
    const ct = await cluster.node().crypto.encryptUCXLContent(data, 'backend_developer', { armor })
    for (const role of ['backend_developer', 'senior_architect', 'devops_engineer']) {
      expect(run(['-d', '-i', keyFiles.get(role) as string], ct).equals(data)).toBe(true)
    }
    expect(() =>
      execFileSync(age, ['-d', '-i', keyFiles.get('frontend_developer') as string], {
        input: ct,
        stdio: 'pipe'
      })
    ).toThrow()
  })

  it.each([
    ['binary', []],
    ['armored (-a)', ['-a']]
  ])('ciphertexts from age -r … -r … (%s) open with our keyring', async (_kind, flags) => {
    const data = randomBytes(5000)
    const recipients = ['qa_engineer', 'devops_engineer', 'observer'].flatMap((r) => [
      '-r',
      (cluster.keys.get(r) as RoleKey).recipient
    ])
    const ct = run([...flags, ...recipients], data)
    if (flags.length > 0) expect(ct.toString().startsWith('-----BEGIN AGE ENCRYPTED FILE-----')).toBe(true)
    for (const role of ['qa_engineer', 'devops_engineer', 'observer']) {
      const out = await cluster.node(role).crypto.decryptWithRole(ct)
      expect(Buffer.from(out.plaintext).equals(data)).toBe(true)
      expect(out.role).toBe(role)
    }
    await expect(cluster.node('admin').crypto.decryptWithRole(ct)).rejects.toBeInstanceOf(
      DecryptionDeniedError
    )
  })

  it('opens age files encrypted to a recipients file, and keys we load from age-keygen output', async () => {
    const keygenFile = join(dir, 'keygen.key')
    execFileSync('age-keygen', ['-o', keygenFile], { stdio: 'pipe' })
    const ring = createKeyring()
    const [info] = await ring.loadIdentityFile(keygenFile, { role: 'admin' })
    const data = randomBytes(100)
    const ct = run(['-r', info?.recipient as string], data)
    const out = await createAgeCrypto({ roles: cluster.roles, keyring: ring }).decryptWithRole(ct)
    expect(Buffer.from(out.plaintext).equals(data)).toBe(true)
    // And the other way round: our ciphertext for that key opens with age -i on the keygen file.
    const ours = await createAgeCrypto({ roles: cluster.roles, keyring: ring }).encryptForRoles(data, [
      'admin'
    ])
    expect(run(['-d', '-i', keygenFile], ours).equals(data)).toBe(true)
  })

  it.each([64 * 1024, 128 * 1024, 128 * 1024 + 1, 3 * 1024 * 1024 + 17])(
    'multi-chunk payloads of %i bytes both ways',
    async (size) => {
      const data = randomBytes(size)
      const { crypto } = cluster.node('admin')
      const ours = await crypto.encryptForRoles(data, ['admin'])
      expect(run(['-d', '-i', keyFiles.get('admin') as string], ours).equals(data)).toBe(true)
      const theirs = run(['-r', (cluster.keys.get('admin') as RoleKey).recipient], data)
      expect(Buffer.from((await crypto.decryptWithRole(theirs)).plaintext).equals(data)).toBe(true)
    }
  )
})
