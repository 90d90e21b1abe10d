import { randomBytes } from 'node:crypto'
import { Decrypter, Encrypter } from 'age-encryption'
import { describe, expect, it } from 'vitest'
import { formatIdentity } from '../src/age/x25519.js'
import {
  CiphertextIntegrityError,
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  DecryptionDeniedError,
  InvalidInputError,
  MissingRecipientError,
  UnknownRoleError
} from '../src/index.js'
import { identityOf, type RoleKey } from '../src/keys.js'
import { countStanzas, makeCluster } from './helpers.js'

const cluster = makeCluster()
const text = new TextEncoder().encode('{"decision":"use sqlite","rationale":"built in"}')

describe('AgeCrypto', () => {
  it('encrypts backend_developer content for its three roles, and only they open it', async () => {
    const writer = cluster.node('backend_developer')
    const ct = await writer.crypto.encryptUCXLContent(text, 'backend_developer')
    expect(Buffer.from(ct.subarray(0, 22)).toString()).toBe('age-encryption.org/v1\n')
    expect(countStanzas(ct)).toBe(3)
    for (const role of ['backend_developer', 'senior_architect', 'devops_engineer']) {
      const out = await cluster.node(role).crypto.decryptWithRole(ct)
      expect(Buffer.from(out.plaintext).equals(Buffer.from(text))).toBe(true)
      expect(out.role).toBe(role)
      expect(out.keyId).toBe(cluster.keys.get(role)?.id)
    }
    for (const role of ['frontend_developer', 'qa_engineer', 'observer', 'admin']) {
      const err = await cluster
        .node(role)
        .crypto.decryptWithRole(ct)
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DecryptionDeniedError)
      expect((err as DecryptionDeniedError).code).toBe('CRYPTO_ACCESS_DENIED')
      expect((err as DecryptionDeniedError).triedRoles).toEqual([role])
    }
    await expect(cluster.node().crypto.decryptWithRole(ct)).rejects.toThrow(/holds no role identities/)
  })

  it('a node playing several roles reports the one that opened it', async () => {
    const ct = await cluster.node().crypto.encryptForRoles('x', ['qa_engineer'])
    const out = await cluster.node('frontend_developer', 'qa_engineer').crypto.decryptWithRole(ct)
    expect(out.role).toBe('qa_engineer')
  })

  it('exposes the role decisions', () => {
    const { crypto } = cluster.node()
    expect(crypto.canDecryptContent('devops_engineer', 'backend_developer')).toBe(true)
    expect(crypto.canDecryptContent('frontend_developer', 'backend_developer')).toBe(false)
    expect(new Set(crypto.decryptableRoles('backend_developer'))).toEqual(
      new Set(['backend_developer', 'senior_architect', 'devops_engineer'])
    )
    expect(() => crypto.canDecryptContent('nobody', 'backend_developer')).toThrow(UnknownRoleError)
  })

  it('writes and detects ASCII armor', async () => {
    const { crypto } = cluster.node('senior_architect')
    const armored = await crypto.encryptUCXLContent(text, 'qa_engineer', { armor: true })
    const s = Buffer.from(armored).toString()
    expect(s.startsWith('-----BEGIN AGE ENCRYPTED FILE-----\n')).toBe(true)
    expect(s.endsWith('-----END AGE ENCRYPTED FILE-----\n')).toBe(true)
    for (const line of s.split('\n').slice(1, -2)) expect(line.length).toBeLessThanOrEqual(64)
    expect(Buffer.from((await crypto.decryptWithRole(armored)).plaintext).toString()).toBe(
      Buffer.from(text).toString()
    )
  })

  it('refuses unknown roles, roles without recipients and bad input with typed errors', async () => {
    const { crypto } = cluster.node()
    await expect(crypto.encryptUCXLContent(text, 'nobody')).rejects.toBeInstanceOf(UnknownRoleError)
    await expect(crypto.encryptForRoles(text, ['admin', 'nobody'])).rejects.toBeInstanceOf(UnknownRoleError)
    const bare = createAgeCrypto({ roles: cluster.roles, keyring: createKeyring() })
    await expect(bare.encryptUCXLContent(text, 'backend_developer')).rejects.toBeInstanceOf(
      MissingRecipientError
    )
    await expect(crypto.encryptForRoles(text, [])).rejects.toBeInstanceOf(InvalidInputError)
    await expect(crypto.encryptForRoles(42 as never, ['admin'])).rejects.toBeInstanceOf(InvalidInputError)
    await expect(crypto.decryptWithRole('text' as never)).rejects.toBeInstanceOf(InvalidInputError)
    const ac = new AbortController()
    ac.abort()
    await expect(crypto.encryptForRoles(text, ['admin'], { signal: ac.signal })).rejects.toThrow(/abort/i)
  })

  it('detects tampering anywhere and never returns partial plaintext', async () => {
    const { crypto } = cluster.node('admin')
    const big = randomBytes(200_000)
    const ct = Buffer.from(await crypto.encryptForRoles(big, ['admin', 'qa_engineer']))
    const headerEnd = ct.indexOf('\n---') + 48
    const flip = (at: number) => {
      const copy = Buffer.from(ct)
      copy[at] = (copy[at] as number) ^ 0x01
      return copy
    }
    // Every payload chunk, including the last.
    for (const at of [headerEnd + 20, headerEnd + 70_000, ct.length - 1]) {
      const err = await crypto.decryptWithRole(flip(at)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CiphertextIntegrityError)
      expect((err as CiphertextIntegrityError).reason).toBe('payload')
      expect((err as CiphertextIntegrityError).code).toBe('CRYPTO_INTEGRITY')
    }
    // The header MAC.
    const macAt = ct.indexOf('\n--- ') + 10
    expect(
      ((await crypto.decryptWithRole(flip(macAt)).catch((e: unknown) => e)) as CiphertextIntegrityError)
        .reason
    ).toMatch(/hmac|header/)
    // Truncation, at a chunk boundary too, and trailing data.
    for (const cut of [ct.length - 1, ct.length - 70_000, headerEnd + 10]) {
      await expect(crypto.decryptWithRole(ct.subarray(0, cut))).rejects.toBeInstanceOf(
        CiphertextIntegrityError
      )
    }
    await expect(crypto.decryptWithRole(Buffer.concat([ct, Buffer.from([0])]))).rejects.toBeInstanceOf(
      CiphertextIntegrityError
    )
    // Garbage and empty input.
    await expect(crypto.decryptWithRole(new Uint8Array())).rejects.toBeInstanceOf(CiphertextIntegrityError)
    await expect(crypto.decryptWithRole(randomBytes(300))).rejects.toBeInstanceOf(CiphertextIntegrityError)
  })

  it('rotation: new content to the current key, old content still opens with the retired one', async () => {
    const roles = createRoleRegistry()
    const ring = createKeyring()
    const first = ring.rotate('backend_developer', { createdAt: new Date('2026-01-01T00:00:00Z') })
    const crypto = createAgeCrypto({ roles, keyring: ring })
    const old = await crypto.encryptForRoles('old', ['backend_developer'])
    const second = ring.rotate('backend_developer')
    const fresh = await crypto.encryptForRoles('new', ['backend_developer'])
    expect(countStanzas(fresh)).toBe(1)
    expect(await crypto.decryptWithRole(old)).toMatchObject({ keyId: first.id, role: 'backend_developer' })
    expect(await crypto.decryptWithRole(fresh)).toMatchObject({ keyId: second.id })
    // Only the new key opens the new content: a node with just the old key is denied.
    const oldOnly = createKeyring()
    oldOnly.addIdentity(first)
    await expect(createAgeCrypto({ roles, keyring: oldOnly }).decryptWithRole(fresh)).rejects.toBeInstanceOf(
      DecryptionDeniedError
    )
    // Overlap: both current, both receive new content.
    ring.rotate('backend_developer', { retirePrevious: false })
    expect(countStanzas(await crypto.encryptForRoles('both', ['backend_developer']))).toBe(2)
  })
})

describe('round trips and age-encryption interoperability', () => {
  const CHUNK = 64 * 1024
  const sizes = [0, 1, 1024, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1, 3 * CHUNK - 7, 1_000_003]
  const { crypto } = cluster.node('senior_architect')
  const architect = cluster.keys.get('senior_architect') as RoleKey
  const architectSecret = formatIdentity(identityOf(architect) as NonNullable<ReturnType<typeof identityOf>>)

  it.each(sizes)('%i bytes: ours -> ours, ours -> age-encryption, age-encryption -> ours', async (size) => {
    const data = randomBytes(size)
    const ct = await crypto.encryptUCXLContent(data, 'frontend_developer')
    expect(Buffer.from((await crypto.decryptWithRole(ct)).plaintext).equals(data)).toBe(true)

    const d = new Decrypter()
    d.addIdentity(architectSecret)
    expect(Buffer.from(await d.decrypt(ct)).equals(data)).toBe(true)

    const e = new Encrypter()
    e.addRecipient(cluster.keys.get('admin')?.recipient as string)
    e.addRecipient(architect.recipient)
    const theirs = await e.encrypt(data)
    expect(Buffer.from((await crypto.decryptWithRole(theirs)).plaintext).equals(data)).toBe(true)
  })

  it('a payload ending exactly at a chunk boundary has a full final chunk, not an empty one', async () => {
    const ct = Buffer.from(await crypto.encryptForRoles(randomBytes(2 * CHUNK), ['admin']))
    const headerLen = ct.indexOf('\n---') + '\n--- '.length + 43 + 1
    expect(ct.length - headerLen - 16).toBe(2 * (CHUNK + 16))
  })
})
