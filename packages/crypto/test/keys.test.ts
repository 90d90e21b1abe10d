import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { formatIdentity, parseIdentity } from '../src/age/x25519.js'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  KeyFileError,
  KeyFormatError,
  keyIdOf,
  parseIdentityFile,
  readIdentityFile,
  roleKeyFromIdentity,
  roleKeyFromRecipient
} from '../src/index.js'
import { identityOf } from '../src/keys.js'

const dir = mkdtempSync(join(tmpdir(), 'chorus-keys-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The secret text of a key, recovered through the internal accessor, to look for leaks. */
function secretOf(key: ReturnType<typeof generateRoleKey>): string {
  const id = identityOf(key)
  if (id === undefined) throw new Error('no identity')
  return formatIdentity(id)
}

describe('role keys', () => {
  it('are standard age X25519 keys with a stable id', () => {
    const key = generateRoleKey('backend_developer')
    expect(key.recipient).toMatch(/^age1[02-9ac-hj-np-z]{58}$/)
    expect(secretOf(key)).toMatch(/^AGE-SECRET-KEY-1[02-9ACDEFGHJKLMNPQRSTUVWXYZ]{58}$/)
    expect(key.id).toBe(keyIdOf(key.recipient))
    expect(key.id).toMatch(/^[0-9a-f]{16}$/)
    expect(key.hasIdentity).toBe(true)
    expect(parseIdentity(secretOf(key)).recipient).toBe(key.recipient)
  })

  it('never show the secret in toString, JSON, inspect, or errors', () => {
    const key = generateRoleKey('backend_developer')
    const secret = secretOf(key)
    const ring = createKeyring()
    ring.addIdentity(key)
    const shown = [
      String(key),
      JSON.stringify(key),
      inspect(key, { depth: 10, showHidden: true }),
      String(ring),
      JSON.stringify(ring),
      inspect(ring, { depth: 10, showHidden: true }),
      JSON.stringify(ring.keys()),
      JSON.stringify(ring.exportRecipients()),
      inspect(identityOf(key), { depth: 10, showHidden: true }),
      inspect(createAgeCrypto({ roles: createRoleRegistry(), keyring: ring }), {
        depth: 10,
        showHidden: true
      }),
      JSON.stringify(createAgeCrypto({ roles: createRoleRegistry(), keyring: ring }))
    ]
    const body = secret.slice('AGE-SECRET-KEY-1'.length, -6)
    for (const text of shown) {
      expect(text).not.toContain(secret)
      expect(text.toUpperCase()).not.toContain(body)
    }
    expect(JSON.stringify(key)).toContain(key.recipient)
    // A corrupted identity: the error says what is wrong without echoing it.
    const bad = `${secret.slice(0, -1)}${secret.endsWith('Q') ? 'P' : 'Q'}`
    try {
      roleKeyFromIdentity('backend_developer', bad)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(KeyFormatError)
      expect(String(err)).not.toContain(body)
      expect(inspect(err)).not.toContain(body)
    }
  })

  it('refuse bad recipients, identities and role names with typed errors', () => {
    expect(() => roleKeyFromRecipient('r', 'age1notakey')).toThrow(KeyFormatError)
    expect(() => roleKeyFromRecipient('r', 'ssh-ed25519 AAAA')).toThrow(KeyFormatError)
    expect(() => roleKeyFromIdentity('r', 'AGE-SECRET-KEY-PQ-1XYZ')).toThrow(/post-quantum/)
    expect(() => generateRoleKey('../etc/passwd')).toThrow(KeyFormatError)
  })
})

describe('keyring', () => {
  it('holds recipients for all roles and identities for the roles it plays', () => {
    const ring = createKeyring()
    const mine = generateRoleKey('backend_developer')
    const theirs = generateRoleKey('senior_architect')
    ring.addIdentity(mine)
    ring.addRecipient('senior_architect', theirs.recipient)
    expect(ring.holdsRole('backend_developer')).toBe(true)
    expect(ring.holdsRole('senior_architect')).toBe(false)
    expect(ring.holdsKey(mine.id)).toBe(true)
    expect(ring.holdsKey(theirs.id)).toBe(false) // a recipient only
    expect(ring.roles()).toEqual(['backend_developer'])
    expect(ring.recipientRoles()).toEqual(['backend_developer', 'senior_architect'])
    expect(ring.keys('senior_architect')[0]).toMatchObject({
      id: theirs.id,
      hasIdentity: false,
      status: 'current'
    })
    // Adding the identity later upgrades the public entry.
    ring.addIdentity(theirs)
    expect(ring.keys('senior_architect')).toHaveLength(1)
    expect(ring.holdsRole('senior_architect')).toBe(true)
    expect(ring.holdsKey(theirs.id)).toBe(true)
    ring.remove('senior_architect', theirs.id)
    expect(ring.holdsKey(theirs.id)).toBe(false)
    ring.addIdentity(theirs)
    // A public-only RoleKey is not an identity.
    expect(() => ring.addIdentity(roleKeyFromRecipient('qa_engineer', theirs.recipient))).toThrow(
      KeyFormatError
    )
  })

  it('rotates: new current key, old ones retired, rotationDue by age', () => {
    const ring = createKeyring()
    const day = 24 * 3600 * 1000
    const t0 = new Date('2026-01-01T00:00:00Z')
    const first = ring.rotate('backend_developer', { createdAt: t0 })
    expect(ring.rotationDue('backend_developer', 30 * day, new Date(t0.getTime() + 10 * day))).toBe(false)
    expect(ring.rotationDue('backend_developer', 30 * day, new Date(t0.getTime() + 31 * day))).toBe(true)
    const second = ring.rotate('backend_developer', { createdAt: new Date(t0.getTime() + 31 * day) })
    expect(ring.currentKeys('backend_developer').map((k) => k.id)).toEqual([second.id])
    expect(ring.keys('backend_developer').map((k) => [k.id, k.status])).toEqual([
      [second.id, 'current'],
      [first.id, 'retired']
    ])
    expect(ring.rotationDue('backend_developer', 30 * day, new Date(t0.getTime() + 32 * day))).toBe(false)
    // Overlap: keep the previous key current too.
    const third = ring.rotate('backend_developer', { retirePrevious: false })
    expect(new Set(ring.currentKeys('backend_developer').map((k) => k.id))).toEqual(
      new Set([second.id, third.id])
    )
    ring.retire('backend_developer', second.id)
    expect(ring.currentKeys('backend_developer').map((k) => k.id)).toEqual([third.id])
    expect(ring.rotationDue('qa_engineer', day)).toBe(true)
    expect(ring.remove('backend_developer', first.id)).toBe(true)
    expect(ring.keys('backend_developer')).toHaveLength(2)
  })
})

describe('identity files', () => {
  it('save as 0600 age identity files that load back, with metadata', async () => {
    const ring = createKeyring()
    const a = ring.rotate('backend_developer', { createdAt: new Date('2026-02-01T00:00:00Z') })
    const b = ring.rotate('backend_developer', { createdAt: new Date('2026-03-01T00:00:00Z') })
    ring.rotate('devops_engineer')
    ring.addRecipient('admin', generateRoleKey('admin').recipient)
    const keyDir = join(dir, 'save')
    const paths = await ring.saveIdentities(keyDir)
    expect(paths.map((p) => p.slice(keyDir.length + 1))).toEqual([
      'backend_developer.key',
      'devops_engineer.key'
    ])
    for (const p of paths) expect(statSync(p).mode & 0o777).toBe(0o600)
    expect(statSync(keyDir).mode & 0o777).toBe(0o700)
    const text = readFileSync(paths[0] as string, 'utf8')
    expect(text).toContain(`# public key: ${a.recipient}`)
    expect(text).toContain('# created: 2026-03-01T00:00:00.000Z')
    expect(text).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/m)

    const loaded = createKeyring()
    const infos = await loaded.loadIdentities(keyDir)
    expect(infos).toHaveLength(3)
    expect(loaded.roles()).toEqual(['backend_developer', 'devops_engineer'])
    expect(loaded.keys('backend_developer')).toEqual(ring.keys('backend_developer'))
    expect(loaded.currentKeys('backend_developer').map((k) => k.id)).toEqual([b.id])
  })

  it('refuse group- or world-readable secret files with a clear error', async () => {
    const ring = createKeyring()
    ring.rotate('qa_engineer')
    const keyDir = join(dir, 'perm')
    const [path] = await ring.saveIdentities(keyDir)
    chmodSync(path as string, 0o644)
    const err = await createKeyring()
      .loadIdentities(keyDir)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(KeyFileError)
    expect(String(err)).toMatch(/mode 0644.*chmod 600/)
    chmodSync(path as string, 0o640)
    await expect(readIdentityFile(path as string)).rejects.toThrow(/group or others/)
    chmodSync(path as string, 0o600)
    await expect(readIdentityFile(path as string)).resolves.toHaveLength(1)
  })

  it('read files written by age-keygen (role from the file name) and report bad lines by number', async () => {
    const key = generateRoleKey('frontend_developer')
    const path = join(dir, 'frontend_developer.key')
    writeFileSync(
      path,
      `# created: 2026-01-02T03:04:05Z\n# public key: ${key.recipient}\n${secretOf(key)}\n`,
      { mode: 0o600 }
    )
    const [entry] = await readIdentityFile(path)
    expect(entry?.key.role).toBe('frontend_developer')
    expect(entry?.key.recipient).toBe(key.recipient)
    expect(entry?.key.createdAt.toISOString()).toBe('2026-01-02T03:04:05.000Z')

    const secret = secretOf(key)
    expect(() => parseIdentityFile(`# role: x\n\n${secret.toLowerCase()}x\n`, 'f.key')).toThrow(/f\.key:3/)
    try {
      parseIdentityFile(`# role: x\n${secret.slice(1)}\n`, 'f.key')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(KeyFileError)
      expect((err as KeyFileError).line).toBe(2)
      expect(String(err)).not.toContain(secret.slice(20, 40))
    }
    const other = generateRoleKey('x')
    expect(() =>
      parseIdentityFile(`# role: x\n# public key: ${other.recipient}\n${secret}\n`, 'f.key')
    ).toThrow(/does not match/)
  })

  it('are usable by the age command-line tool (age -i)', () => {
    const ring = createKeyring()
    const key = ring.rotate('backend_developer')
    const keyDir = join(dir, 'cli')
    return ring.saveIdentities(keyDir).then(([path]) => {
      const ct = execFileSync('age', ['-r', key.recipient], { input: 'hello from age' })
      expect(execFileSync('age', ['-d', '-i', path as string], { input: ct }).toString()).toBe(
        'hello from age'
      )
    })
  })
})
