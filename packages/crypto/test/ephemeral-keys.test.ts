import { execFileSync } from 'node:child_process'
import { createPublicKey } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { decryptAge, encryptAge } from '../src/age/age.js'
import {
  createPrecomputedEphemeralKeys,
  type EphemeralKey,
  type PrecomputedEphemeralKeys
} from '../src/age/ephemeral-keys.js'
import { exportPublicRaw, generateIdentity } from '../src/age/x25519.js'
import { createAgeCrypto, InvalidInputError } from '../src/index.js'
import { countStanzas, makeCluster } from './helpers.js'

const pools: PrecomputedEphemeralKeys[] = []
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()))
})

function pool(init = {}) {
  const p = createPrecomputedEphemeralKeys(init)
  pools.push(p)
  return p
}

/** Takes keys until the worker has delivered at least one (bounded), returning all taken. */
async function takeUntilPrecomputed(p: PrecomputedEphemeralKeys, limit = 200): Promise<EphemeralKey[]> {
  const taken: EphemeralKey[] = []
  for (let i = 0; i < limit && p.stats().precomputed === 0; i++) {
    taken.push(p.take())
    await new Promise((r) => setTimeout(r, 20))
  }
  return taken
}

const shareOf = (k: EphemeralKey) => exportPublicRaw(createPublicKey(k.privateKey))

describe('precomputed ephemeral keys', () => {
  it('hands out worker-generated key pairs whose share is the private key’s public key', async () => {
    const p = pool({ batchSize: 8 })
    const taken = await takeUntilPrecomputed(p)
    expect(p.stats().precomputed).toBeGreaterThan(0)
    expect(p.stats().workerRunning).toBe(true)
    for (let i = 0; i < 20; i++) taken.push(p.take())
    for (const k of taken) expect(Buffer.from(k.share).equals(shareOf(k))).toBe(true)
  })

  it('never hands out the same key twice, from the pool or inline', async () => {
    const p = pool({ batchSize: 16 })
    await takeUntilPrecomputed(p)
    const shares = new Set<string>()
    // Far more than the pool holds, in a tight loop: some come from the pool, the rest inline.
    for (let i = 0; i < 500; i++) shares.add(Buffer.from(p.take().share).toString('hex'))
    expect(shares.size).toBe(500)
    const { precomputed, inline } = p.stats()
    expect(precomputed + inline).toBeGreaterThanOrEqual(500)
  })

  it('falls back to inline keys once closed, and encryption still round-trips', async () => {
    const p = pool({ batchSize: 4 })
    await takeUntilPrecomputed(p)
    await p.close()
    expect(p.stats().workerRunning).toBe(false)
    const before = p.stats().inline
    const id = generateIdentity()
    const ct = await encryptAge(Buffer.from('after close'), [id], { ephemeralKeys: p })
    expect(p.stats().inline).toBe(before + 1)
    expect((await decryptAge(ct, [id])).plaintext.toString()).toBe('after close')
  })

  it('gives every stanza of every file its own ephemeral share', async () => {
    const p = pool({ batchSize: 8 })
    await takeUntilPrecomputed(p)
    const ids = [generateIdentity(), generateIdentity(), generateIdentity()]
    const shares: string[] = []
    for (let i = 0; i < 40; i++) {
      const ct = await encryptAge(Buffer.from(`record ${i}`), ids, { ephemeralKeys: p })
      const header = ct.toString('latin1').split('\n---')[0] ?? ''
      for (const line of header.split('\n')) if (line.startsWith('-> X25519 ')) shares.push(line.slice(10))
      for (const id of ids) expect((await decryptAge(ct, [id])).plaintext.toString()).toBe(`record ${i}`)
    }
    expect(shares).toHaveLength(120)
    expect(new Set(shares).size).toBe(120)
  })

  it('does not keep a process alive after it encrypted', () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url))
    const script = `
      const { createAgeCrypto, createKeyring, createRoleRegistry, generateRoleKey } = await import(${JSON.stringify(entry)})
      const roles = createRoleRegistry(); const keyring = createKeyring()
      for (const r of roles.list()) keyring.addRecipient(r.name, generateRoleKey(r.name).recipient)
      const c = createAgeCrypto({ roles, keyring })
      for (let i = 0; i < 50; i++) await c.encryptUCXLContent('x', 'backend_developer')
      await new Promise((r) => setTimeout(r, 100))
      console.log('done')`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 20_000,
      encoding: 'utf8'
    })
    expect(out.trim()).toBe('done')
  })
})

describe('AgeCrypto ephemeralKeys option', () => {
  const cluster = makeCluster()

  it("encrypts with 'inline' keys (no worker) as well as with the default pool", async () => {
    const writerRing = cluster.node().keyring
    const inline = createAgeCrypto({ roles: cluster.roles, keyring: writerRing }, { ephemeralKeys: 'inline' })
    const pooled = createAgeCrypto({ roles: cluster.roles, keyring: writerRing })
    const reader = cluster.node('devops_engineer').crypto
    for (const writer of [inline, pooled]) {
      const ct = await writer.encryptUCXLContent('both ways', 'backend_developer')
      expect(countStanzas(ct)).toBe(3) // backend_developer, senior_architect, devops_engineer
      expect(Buffer.from((await reader.decryptWithRole(ct)).plaintext).toString()).toBe('both ways')
    }
  })

  it('refuses an unknown mode with a typed error', () => {
    const keyring = cluster.node().keyring
    expect(() =>
      createAgeCrypto({ roles: cluster.roles, keyring }, { ephemeralKeys: 'reuse' as never })
    ).toThrow(InvalidInputError)
  })
})
