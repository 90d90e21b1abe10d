// The bounds on what one ciphertext may cost a reader: the recipient stanza cap (enforced while the
// header is parsed), the unwrap-attempt cap, the yields between slices of unwraps, and the header
// check storage runs on every record.
import { describe, expect, it } from 'vitest'
import {
  ageCryptoDefaults,
  CiphertextIntegrityError,
  checkRecipientStanzas,
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  encodeArmor,
  generateRoleKey,
  InvalidInputError
} from '../src/index.js'
import { countStanzas } from './helpers.js'

const roles = createRoleRegistry()

/** A writer whose role `backend_developer` has `extra` more current recipients than its own key. */
function writerWith(extra: number, maxRecipientStanzas = 100_000) {
  const keyring = createKeyring()
  const own = generateRoleKey('backend_developer')
  keyring.addIdentity(own)
  for (let i = 0; i < extra; i++) {
    keyring.addRecipient('backend_developer', generateRoleKey('backend_developer').recipient)
  }
  return { own, crypto: createAgeCrypto({ roles, keyring }, { maxRecipientStanzas }) }
}

/** A reader holding `n` identities of backend_developer, none of which the content was made for. */
function outsiderReader(n: number, init: { maxUnwrapAttempts?: number } = {}) {
  const keyring = createKeyring()
  for (let i = 0; i < n; i++) keyring.addIdentity(generateRoleKey('backend_developer'))
  return createAgeCrypto({ roles, keyring }, init)
}

const integrity = async (p: Promise<unknown>): Promise<CiphertextIntegrityError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(CiphertextIntegrityError.isInstance(err)).toBe(true)
  return err as CiphertextIntegrityError
}

describe('recipient stanza cap', () => {
  it('defaults to 128 and refuses to encrypt to more recipients', async () => {
    expect(ageCryptoDefaults.maxRecipientStanzas).toBe(128)
    const ok = writerWith(127, 128)
    expect(countStanzas(await ok.crypto.encryptForRoles('x', ['backend_developer']))).toBe(128)
    const over = writerWith(128, 128)
    const err = await over.crypto.encryptForRoles('x', ['backend_developer']).catch((e: unknown) => e)
    expect(InvalidInputError.isInstance(err)).toBe(true)
  })

  it('refuses a header over the cap while parsing, before reading the stanza past it', async () => {
    const { crypto } = writerWith(200)
    const ct = Buffer.from(await crypto.encryptForRoles('x', ['backend_developer']))
    expect(countStanzas(ct)).toBe(201)
    // cut the file right after the 129th `->` line: a parser that read on would call it truncated
    const lines = ct.toString('latin1').split('\n')
    let arrows = 0
    const cut = lines.findIndex((l) => l.startsWith('->') && ++arrows === 129)
    const truncated = Buffer.from(`${lines.slice(0, cut + 1).join('\n')}\n`, 'latin1')
    const reader = outsiderReader(1)
    const err = await integrity(reader.decryptWithRole(truncated))
    expect(err.reason).toBe('header')
    expect(err.message).toContain('more than 128 recipient stanzas')
    expect(() => checkRecipientStanzas(truncated, { maxStanzas: 128 })).toThrow(/more than 128/)
    // the whole file too, whoever reads it
    expect((await integrity(reader.decryptWithRole(ct))).message).toContain('more than 128')
  })

  it('opens a file at the cap', async () => {
    const { crypto, own } = writerWith(127)
    const ct = await crypto.encryptForRoles('at the cap', ['backend_developer'])
    const keyring = createKeyring()
    keyring.addIdentity(own)
    const out = await createAgeCrypto({ roles, keyring }).decryptWithRole(ct)
    expect(Buffer.from(out.plaintext).toString()).toBe('at the cap')
  })
})

describe('unwrap attempts', () => {
  it('refuses before the first attempt when stanzas × identities exceed maxUnwrapAttempts', async () => {
    const { crypto } = writerWith(9)
    const ct = await crypto.encryptForRoles('x', ['backend_developer'])
    const err = await integrity(outsiderReader(3, { maxUnwrapAttempts: 29 }).decryptWithRole(ct))
    expect(err.message).toContain('more than 29 unwrap attempts')
    // 30 attempts allowed: the reader tries them all and is denied, not refused
    const denied = await outsiderReader(3, { maxUnwrapAttempts: 30 })
      .decryptWithRole(ct)
      .catch((e: unknown) => e)
    expect(CiphertextIntegrityError.isInstance(denied)).toBe(false)
    expect((denied as Error).name).toBe('DecryptionDeniedError')
  })

  it('yields to the event loop between slices of unwraps', async () => {
    const { crypto } = writerWith(127)
    const ct = await crypto.encryptForRoles('x', ['backend_developer'])
    const reader = outsiderReader(4)
    let turns = 0
    let settled = false
    const tick = (): void => {
      if (settled) return
      turns++
      setImmediate(tick)
    }
    setImmediate(tick)
    await reader.decryptWithRole(ct).catch(() => undefined)
    settled = true
    // 128 stanzas × 4 identities = 512 attempts in slices of 32: other work ran in between
    expect(turns).toBeGreaterThanOrEqual(10)
  })
})

describe('checkRecipientStanzas (the record check)', () => {
  const header = (stanzas: string) =>
    Buffer.from(`age-encryption.org/v1\n${stanzas}--- ${'A'.repeat(43)}\n${'x'.repeat(40)}`, 'latin1')

  it('counts the stanzas of an honest file', async () => {
    const { crypto } = writerWith(2)
    expect(
      checkRecipientStanzas(await crypto.encryptForRoles('x', ['backend_developer']), { maxStanzas: 128 })
    ).toBe(3)
  })

  it('refuses armor, scrypt, other stanza types and malformed X25519 stanzas', async () => {
    const { crypto } = writerWith(0)
    const ct = await crypto.encryptForRoles('x', ['backend_developer'])
    const refuse = (data: Uint8Array) =>
      expect(() => checkRecipientStanzas(data, { maxStanzas: 128 })).toThrow(CiphertextIntegrityError)
    refuse(encodeArmor(ct))
    refuse(header(`-> scrypt ${'A'.repeat(22)} 10\n${'A'.repeat(43)}\n`))
    refuse(header(`-> grease-x y\n\n`))
    refuse(header(`-> X25519 ${'A'.repeat(42)}\n${'A'.repeat(43)}\n`))
    refuse(header(`-> X25519 ${'A'.repeat(43)}\n${'A'.repeat(22)}\n`))
    refuse(header(''))
  })
})
