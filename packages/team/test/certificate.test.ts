import { decode, encode } from 'cborg'
import { describe, expect, it } from 'vitest'
import {
  createManifest,
  decodeCertificate,
  generateTeamRoot,
  InvalidCertificateError,
  InvalidInputError,
  issueCertificate,
  rootSigner,
  signManifest,
  teamLimits
} from '../src/index.js'
import { ageRecipient, DAY, flipBit, makeTeam, nodeKey, T0, thrown } from './helpers.js'

const team = makeTeam()

describe('member certificate', () => {
  it('decodes to what was issued, issuer = the signer', () => {
    const key = nodeKey()
    const recipient = ageRecipient()
    const bytes = issueCertificate(
      {
        team: team.teamId,
        agent: 'agent001',
        roles: ['backend_developer', 'qa_engineer'],
        nodeKey: key,
        recipient,
        serial: 42,
        notBefore: T0,
        notAfter: T0 + DAY
      },
      team.signer
    )
    expect(bytes.byteLength).toBeLessThanOrEqual(teamLimits.maxCertificateBytes)
    expect(decodeCertificate(bytes)).toEqual({
      team: team.teamId,
      agent: 'agent001',
      roles: ['backend_developer', 'qa_engineer'],
      nodeKey: key,
      recipient,
      serial: 42,
      notBefore: T0,
      notAfter: T0 + DAY,
      issuer: team.root.publicKey
    })
  })

  it('is valid for the configured default validity (365 days) from now when no window is given', () => {
    const before = Date.now()
    const c = decodeCertificate(team.certificate({ notBefore: undefined, notAfter: undefined }))
    expect(c.notBefore).toBeGreaterThanOrEqual(before)
    expect(c.notAfter - c.notBefore).toBe(365 * DAY)
    const short = decodeCertificate(
      team.certificate({ notBefore: T0, notAfter: undefined, certificateValidity: DAY })
    )
    expect(short.notAfter).toBe(T0 + DAY)
  })

  it('refuses to issue what it would not decode', () => {
    const bad = [
      { agent: 'agent 1' },
      { agent: 'x'.repeat(65) },
      { agent: 'any' },
      { roles: [] },
      { roles: ['a', 'a'] },
      { roles: Array.from({ length: 33 }, (_, i) => `r${i}`) },
      { nodeKey: new Uint8Array(31) },
      { recipient: 'age1notarecipient' },
      { notBefore: T0, notAfter: T0 },
      { serial: -1 },
      { team: 'not-a-team' }
    ]
    for (const fields of bad) thrown(InvalidInputError, () => team.certificate(fields))
    // 32 roles of 64 characters do not fit in 1 KiB.
    const roles = Array.from({ length: 32 }, (_, i) => `${i}`.padStart(64, 'r'))
    const err = thrown(InvalidInputError, () => team.certificate({ roles }))
    expect(err.reason).toContain('byte limit')
  })

  it('is refused when any one bit is flipped (decoding, or the signature, fails)', () => {
    const bytes = team.certificate()
    const policy = team.policy()
    expect(policy.verifyCertificate(bytes).agent).toBe('agent001')
    for (let i = 0; i < bytes.byteLength; i++) {
      for (const bit of [0, 7]) {
        thrown(InvalidCertificateError, () => policy.verifyCertificate(flipBit(bytes, i, bit)))
      }
    }
  })

  it('is refused when not canonical, over 1 KiB, or with fields more or less', () => {
    const bytes = team.certificate()
    const fields = decode(bytes) as Record<string, unknown>
    const reordered = encode(Object.fromEntries(Object.entries(fields).reverse()), { mapSorter: () => 0 })
    expect(thrown(InvalidCertificateError, () => decodeCertificate(reordered)).detail).toBe(
      'encoding is not canonical'
    )
    const big = new Uint8Array(teamLimits.maxCertificateBytes + 1)
    expect(thrown(InvalidCertificateError, () => decodeCertificate(big)).reason).toBe('malformed')
    expect(
      thrown(InvalidCertificateError, () => decodeCertificate(encode({ ...fields, x: 1 }))).detail
    ).toContain('exactly')
    const { serial: _s, ...fewer } = fields
    expect(thrown(InvalidCertificateError, () => decodeCertificate(encode(fewer))).detail).toContain(
      'exactly'
    )
    thrown(InvalidCertificateError, () => decodeCertificate('x' as unknown as Uint8Array))
  })

  it('refuses a signer whose signature is not made with its public key', () => {
    const liar = { publicKey: team.root.publicKey, sign: rootSigner(generateTeamRoot()).sign }
    const err = thrown(InvalidInputError, () => team.certificate({}, liar))
    expect(err.field).toBe('signer')
    const manifest = createManifest({ team: team.teamId })
    expect(thrown(InvalidInputError, () => signManifest(manifest, liar)).field).toBe('signer')
  })

  it('verifies only under its own team', () => {
    const other = makeTeam()
    const err = thrown(InvalidCertificateError, () => team.policy().verifyCertificate(other.certificate()))
    expect(err.reason).toBe('other-team')
    // Another team's root signing a certificate that names this team: not a known issuer.
    const forged = issueCertificate(
      {
        team: team.teamId,
        agent: 'agent001',
        roles: ['backend_developer'],
        nodeKey: nodeKey(),
        recipient: ageRecipient(),
        serial: 1,
        notBefore: T0,
        notAfter: T0 + DAY
      },
      rootSigner(generateTeamRoot())
    )
    expect(thrown(InvalidCertificateError, () => team.policy().verifyCertificate(forged)).reason).toBe(
      'unknown-issuer'
    )
  })
})
