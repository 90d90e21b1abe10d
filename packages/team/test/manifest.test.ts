import { createRoleRegistry, keyIdOf } from '@chorus/crypto'
import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  createManifest,
  generateTeamRoot,
  InvalidInputError,
  InvalidManifestError,
  openManifest,
  predefinedTeamRoles,
  rootSigner,
  signManifest,
  type TeamManifest,
  teamLimits
} from '../src/index.js'
import { ageRecipient, flipBit, makeTeam, T0, thrown } from './helpers.js'

const team = makeTeam()

function reason(fn: () => unknown): string {
  return thrown(InvalidManifestError, fn).detail
}

function withRecipient(status: 'current' | 'retired' = 'current') {
  const recipient = ageRecipient()
  return { keyId: keyIdOf(recipient), recipient, status, createdAt: T0 }
}

/** The fields and signature of a signed manifest, as a plain object. */
function fieldsOf(bytes: Uint8Array): Record<string, unknown> {
  return decode(bytes) as Record<string, unknown>
}

describe('team manifest', () => {
  it('opens what the root signed, with every field', () => {
    const issuer = generateTeamRoot()
    const backend = withRecipient()
    const retired = withRecipient('retired')
    const bytes = team.manifest({
      version: 7,
      recipients: { backend_developer: [backend, retired] },
      issuers: [{ name: 'hr-bot', key: issuer.publicKey }]
    })
    const m = openManifest(bytes, team.root.publicKey)
    expect(m).toEqual({
      team: team.teamId,
      version: 7,
      issuedAt: T0,
      roles: predefinedTeamRoles(),
      recipients: { backend_developer: [backend, retired] },
      issuers: [{ name: 'hr-bot', key: issuer.publicKey }]
    })
  })

  it('defaults to the predefined roles: backend content reads as backend, architect and devops', () => {
    const m = createManifest({ team: team.teamId })
    expect(m.version).toBe(1)
    expect(m.recipients).toEqual({})
    expect(m.issuers).toEqual([])
    const registry = createRoleRegistry(m.roles, { includePredefined: false })
    const readers = registry.decryptableRoles('backend_developer')
    for (const role of ['backend_developer', 'senior_architect', 'devops_engineer'])
      expect(readers).toContain(role)
    for (const role of ['frontend_developer', 'qa_engineer', 'observer']) expect(readers).not.toContain(role)
    expect(m.roles.observer?.authority).toBe('read_only')
  })

  it('is refused when signed by another root or for another team', () => {
    const other = makeTeam()
    expect(reason(() => openManifest(other.manifest(), team.root.publicKey))).toBe('signed for another team')
    // Another key signing a manifest that names this team: the signature does not verify.
    const forged = createManifest({ team: team.teamId })
    const fake = rootSigner(generateTeamRoot())
    thrown(InvalidInputError, () => signManifest(forged, fake)) // signManifest itself refuses
    const { signature: _s, ...fields } = fieldsOf(team.manifest())
    const bytes = encode({ ...fields, signature: fake.sign(new Uint8Array(1)) })
    expect(reason(() => openManifest(bytes, team.root.publicKey))).toBe(
      'signature does not verify with the team root'
    )
  })

  it('is refused when any one bit of it is flipped', () => {
    const bytes = team.manifest({
      recipients: { backend_developer: [withRecipient()] },
      issuers: [{ name: 'issuer', key: generateTeamRoot().publicKey }]
    })
    for (let i = 0; i < bytes.byteLength; i++) {
      for (const bit of [0, 7]) {
        thrown(InvalidManifestError, () => openManifest(flipBit(bytes, i, bit), team.root.publicKey))
      }
    }
  })

  it('is refused when its CBOR is not canonical, even with a valid signature', () => {
    const bytes = team.manifest()
    const fields = fieldsOf(bytes)
    // Same values, map keys in another order.
    const reordered = encode(Object.fromEntries(Object.entries(fields).reverse()), { mapSorter: () => 0 })
    expect(reordered).not.toEqual(bytes)
    expect(reason(() => openManifest(reordered, team.root.publicKey))).toBe('encoding is not canonical')
    // The version 1 as a two-byte integer (strict decoding refuses non-minimal integers).
    const key = new TextEncoder().encode('version')
    const at = Buffer.from(bytes).indexOf(Buffer.from([0x67, ...key])) + 1 + key.byteLength
    expect(bytes[at]).toBe(0x01)
    const long = new Uint8Array([...bytes.subarray(0, at), 0x18, 0x01, ...bytes.subarray(at + 1)])
    thrown(InvalidManifestError, () => openManifest(long, team.root.publicKey))
    // The version 1 as a half-precision float.
    const float = new Uint8Array([...bytes.subarray(0, at), 0xf9, 0x3c, 0x00, ...bytes.subarray(at + 1)])
    thrown(InvalidManifestError, () => openManifest(float, team.root.publicKey))
    // A field more, a field less.
    expect(reason(() => openManifest(encode({ ...fields, extra: 1 }), team.root.publicKey))).toContain(
      'exactly'
    )
    const { issuers: _i, ...fewer } = fields
    expect(reason(() => openManifest(encode(fewer), team.root.publicKey))).toContain('exactly')
  })

  it('is refused over the size limit', () => {
    const big = new Uint8Array(teamLimits.maxManifestBytes + 1)
    expect(reason(() => openManifest(big, team.root.publicKey))).toBe('over the size limit')
    // 256 roles of long descriptions sign to more than 64 KiB: signManifest refuses too.
    const roles = Object.fromEntries(
      Array.from({ length: 256 }, (_, i) => [
        `role${i}`,
        { authority: 'suggestion' as const, canDecrypt: [], description: 'd'.repeat(400) }
      ])
    )
    expect(reason(() => signManifest(createManifest({ team: team.teamId, roles }), team.signer))).toBe(
      'over the size limit'
    )
  })

  it('bounds and checks its roles, recipients and issuers', () => {
    const base = (over: Partial<TeamManifest>) => () => createManifest({ team: team.teamId, ...over })
    const role = { authority: 'suggestion' as const, canDecrypt: [] as string[], description: '' }
    expect(reason(base({ roles: {} }))).toContain('roles must have 1 to 256')
    expect(reason(base({ roles: { 'bad name': role } }))).toContain('role name')
    expect(reason(base({ roles: { ['x'.repeat(65)]: role } }))).toContain('role name')
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`r${i}`, role]))
    expect(reason(base({ roles: many }))).toContain('roles must have 1 to 256')
    expect(reason(base({ roles: { a: { ...role, canDecrypt: ['b'] } } }))).toContain('does not define')
    expect(() => base({ roles: { a: { ...role, canDecrypt: ['*'] } } })()).not.toThrow()
    expect(reason(base({ roles: { a: { ...role, authority: 'god' as never } } }))).toContain('authority')
    expect(reason(base({ recipients: { nobody: [] } }))).toContain('does not define')
    const r = withRecipient()
    expect(
      reason(base({ recipients: { backend_developer: [{ ...r, keyId: '0000000000000000' }] } }))
    ).toContain('keyId')
    expect(reason(base({ recipients: { backend_developer: [r, r] } }))).toContain('duplicates')
    expect(reason(base({ recipients: { backend_developer: [{ ...r, recipient: 'age1nope' }] } }))).toContain(
      'age X25519 recipient'
    )
    const tooMany = Array.from({ length: 257 }, () => withRecipient())
    expect(reason(base({ recipients: { backend_developer: tooMany } }))).toContain('0 to 256')
    const key = generateTeamRoot().publicKey
    expect(
      reason(
        base({
          issuers: [
            { name: 'a', key },
            { name: 'b', key }
          ]
        })
      )
    ).toContain('issuer keys has duplicates')
    expect(reason(base({ issuers: [{ name: 'a', key: key.subarray(1) }] }))).toContain('32 bytes')
    expect(reason(base({ version: 0 }))).toContain('version')
    expect(reason(base({ version: 1.5 }))).toContain('version')
  })
})
