import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../src/ed25519.js'
import {
  generateTeamRoot,
  InvalidInputError,
  isTeamId,
  loadTeamRoot,
  parseTeamId,
  rootSigner,
  saveTeamRoot,
  TEAM_ERROR_CODES,
  TEAM_ID_LENGTH,
  TeamRootFileError,
  teamIdOf
} from '../src/index.js'
import { rejected, thrown } from './helpers.js'

describe('team root and team id', () => {
  it('generates a 32-byte key pair whose id round-trips', () => {
    const root = generateTeamRoot()
    expect(root.publicKey.byteLength).toBe(32)
    expect(root.privateKey.byteLength).toBe(32)
    const id = teamIdOf(root.publicKey)
    expect(id).toHaveLength(TEAM_ID_LENGTH)
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(parseTeamId(id)).toEqual(root.publicKey)
    expect(isTeamId(id)).toBe(true)
  })

  it('refuses ids that are not the one base64url spelling of 32 bytes', () => {
    const id = teamIdOf(generateTeamRoot().publicKey)
    for (const bad of [
      `${id}=`,
      id.slice(1),
      `${id}A`,
      `${id.slice(0, 42)}+`,
      `${id.slice(0, 42)}.`,
      '',
      'x'
    ]) {
      const err = thrown(InvalidInputError, () => parseTeamId(bad))
      expect(err.code).toBe(TEAM_ERROR_CODES.INVALID_INPUT)
      expect(isTeamId(bad)).toBe(false)
    }
    // The last character carries 2 unused bits: a non-zero one is another spelling of some key.
    const last = id.at(-1) ?? 'A'
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] ?? 'A'
    thrown(InvalidInputError, () => parseTeamId(`${id.slice(0, 42)}${sibling}`))
    thrown(InvalidInputError, () => teamIdOf(new Uint8Array(31)))
  })

  it('signs with the root and refuses a key pair whose halves do not match', () => {
    const root = generateTeamRoot()
    const signer = rootSigner(root)
    const data = new TextEncoder().encode('hello')
    expect(verifySignature(root.publicKey, data, signer.sign(data))).toBe(true)
    expect(verifySignature(generateTeamRoot().publicKey, data, signer.sign(data))).toBe(false)
    const other = generateTeamRoot()
    thrown(InvalidInputError, () => rootSigner({ publicKey: other.publicKey, privateKey: root.privateKey }))
  })
})

describe('team root file', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chorus-team-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes 0600 atomically and reads the same root back', async () => {
    const root = generateTeamRoot()
    const path = join(dir, 'root.key')
    await saveTeamRoot(path, root)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['root.key']) // no temporary file left
    const loaded = await loadTeamRoot(path)
    expect(loaded.publicKey).toEqual(root.publicKey)
    expect(loaded.privateKey).toEqual(root.privateKey)
    // Replacing it is atomic too.
    const next = generateTeamRoot()
    await saveTeamRoot(path, next)
    expect((await loadTeamRoot(path)).publicKey).toEqual(next.publicKey)
  })

  it('refuses a file other users may read or write', async () => {
    const path = join(dir, 'root.key')
    await saveTeamRoot(path, generateTeamRoot())
    for (const mode of [0o644, 0o620, 0o602, 0o640]) {
      await chmod(path, mode)
      const err = await rejected(TeamRootFileError, loadTeamRoot(path))
      expect(err.code).toBe(TEAM_ERROR_CODES.ROOT_FILE)
      expect(err.message).toContain('other users may access')
    }
  })

  it('refuses a file whose seed is not the key of the team it names, without echoing it', async () => {
    const a = generateTeamRoot()
    const b = generateTeamRoot()
    const path = join(dir, 'root.key')
    await saveTeamRoot(path, a)
    const text = await readFile(path, 'utf8')
    const swapped = text.replace(teamIdOf(a.publicKey), teamIdOf(b.publicKey))
    await writeFile(path, swapped, { mode: 0o600 })
    const err = await rejected(TeamRootFileError, loadTeamRoot(path))
    expect(err.message).not.toContain(Buffer.from(a.privateKey).toString('base64url'))
    await writeFile(path, 'chorus-team-root-v1:garbage\n', { mode: 0o600 })
    const garbage = await rejected(TeamRootFileError, loadTeamRoot(path))
    expect(garbage.message).not.toContain('garbage')
    await rejected(TeamRootFileError, loadTeamRoot(join(dir, 'missing.key')))
  })
})
