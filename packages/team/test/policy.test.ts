import { keyIdOf } from '@chorus/crypto'
import { describe, expect, it } from 'vitest'
import {
  createTeamPolicy,
  generateTeamRoot,
  InvalidCertificateError,
  InvalidInputError,
  InvalidManifestError,
  predefinedTeamRoles,
  rootSigner,
  StaleManifestError,
  type TeamManifest
} from '../src/index.js'
import { ageRecipient, DAY, flipBit, makeTeam, T0, testClock, thrown } from './helpers.js'

describe('manifest versions', () => {
  const team = makeTeam()

  it('takes a higher version signed by the root and tells its listeners', () => {
    const policy = team.policy({ manifest: team.manifest({ version: 1 }) })
    const seen: TeamManifest[] = []
    const off = policy.onManifest((m) => seen.push(m))
    const v2 = team.manifest({ version: 2 })
    expect(policy.acceptManifest(v2)).toBe(true)
    expect(policy.manifest.version).toBe(2)
    expect(policy.manifestBytes).toEqual(v2)
    expect(seen.map((m) => m.version)).toEqual([2])
    // The same bytes again: nothing to do.
    expect(policy.acceptManifest(v2)).toBe(false)
    off()
    expect(policy.acceptManifest(team.manifest({ version: 5 }))).toBe(true)
    expect(seen.map((m) => m.version)).toEqual([2])
  })

  it('refuses a lower version and the same version with other content', () => {
    const policy = team.policy({ manifest: team.manifest({ version: 3 }) })
    const lower = thrown(StaleManifestError, () => policy.acceptManifest(team.manifest({ version: 2 })))
    expect([lower.version, lower.current]).toEqual([2, 3])
    const same = team.manifest({ version: 3, issuedAt: T0 + 1 })
    thrown(StaleManifestError, () => policy.acceptManifest(same))
    expect(policy.manifest.version).toBe(3)
    expect(policy.manifest.issuedAt).toBe(T0)
  })

  it("refuses another root's manifest and tampered bytes", () => {
    const policy = team.policy()
    const other = makeTeam()
    thrown(InvalidManifestError, () => policy.acceptManifest(other.manifest({ version: 9 })))
    const v2 = team.manifest({ version: 2 })
    thrown(InvalidManifestError, () => policy.acceptManifest(flipBit(v2, v2.byteLength - 3)))
    thrown(InvalidManifestError, () => policy.acceptManifest(flipBit(v2, 20)))
    expect(policy.manifest.version).toBe(1)
  })

  it('keeps going when a listener throws', () => {
    const policy = team.policy()
    policy.onManifest(() => {
      throw new Error('listener bug')
    })
    expect(policy.acceptManifest(team.manifest({ version: 2 }))).toBe(true)
  })

  it('refuses to start from a bad manifest, a bad root or bad options', () => {
    thrown(InvalidManifestError, () =>
      createTeamPolicy({ root: team.root.publicKey, manifest: makeTeam().manifest() })
    )
    thrown(InvalidInputError, () => createTeamPolicy({ root: new Uint8Array(3), manifest: team.manifest() }))
    thrown(InvalidInputError, () =>
      createTeamPolicy({ root: team.root.publicKey, manifest: team.manifest(), certificateCacheSize: -1 })
    )
  })

  it('does not let a caller change the manifest in force', () => {
    const policy = team.policy()
    expect(() => {
      ;(policy.manifest.issuers as unknown[]).push({ name: 'x', key: new Uint8Array(32) })
    }).toThrow()
    policy.manifestBytes.fill(0)
    expect(policy.manifestBytes.some((b) => b !== 0)).toBe(true)
  })

  it('keeps its own copy of a Node Buffer it was given (Buffer.slice() would be a view)', () => {
    const given = Buffer.from(team.manifest({ version: 1 }))
    const policy = team.policy({ manifest: given })
    const newer = Buffer.from(team.manifest({ version: 2 }))
    expect(policy.acceptManifest(newer)).toBe(true)
    const kept = policy.manifestBytes
    given.fill(0)
    newer.fill(0)
    expect(policy.manifestBytes).toEqual(kept)
    expect(policy.manifestBytes.some((b) => b !== 0)).toBe(true)
  })
})

describe('certificate verification', () => {
  it('checks the validity window against the injected clock', () => {
    const team = makeTeam()
    const clock = testClock(T0 - 1)
    const policy = team.policy({ now: clock.now, certificateCacheSize: 0 })
    const cert = team.certificate({ notBefore: T0, notAfter: T0 + DAY })
    expect(thrown(InvalidCertificateError, () => policy.verifyCertificate(cert)).reason).toBe('not-yet-valid')
    clock.set(T0)
    expect(policy.verifyCertificate(cert).agent).toBe('agent001')
    clock.set(T0 + DAY - 1)
    expect(policy.verifyCertificate(cert).agent).toBe('agent001')
    clock.set(T0 + DAY)
    expect(thrown(InvalidCertificateError, () => policy.verifyCertificate(cert)).reason).toBe('expired')
  })

  it('takes an issuer-signed certificate while the issuer is in the manifest, and not after', () => {
    const team = makeTeam()
    const issuer = generateTeamRoot()
    const policy = team.policy({
      manifest: team.manifest({ issuers: [{ name: 'hr', key: issuer.publicKey }] })
    })
    const cert = team.certificate({}, rootSigner(issuer))
    const c = policy.verifyCertificate(cert)
    expect(c.issuer).toEqual(issuer.publicKey)
    // A newer manifest drops the issuer: its certificates stop verifying (the cache is cleared).
    policy.acceptManifest(team.manifest({ version: 2 }))
    expect(thrown(InvalidCertificateError, () => policy.verifyCertificate(cert)).reason).toBe(
      'unknown-issuer'
    )
    // The root's certificates are unaffected.
    expect(policy.verifyCertificate(team.certificate()).agent).toBe('agent001')
  })

  it('refuses a certificate naming a role the manifest does not define', () => {
    const team = makeTeam()
    const policy = team.policy()
    const cert = team.certificate({ roles: ['backend_developer', 'release_manager'] })
    expect(thrown(InvalidCertificateError, () => policy.verifyCertificate(cert)).reason).toBe('unknown-role')
    // Once a manifest defines it, the same certificate verifies.
    const roles = {
      ...predefinedTeamRoles(),
      release_manager: { authority: 'coordination' as const, canDecrypt: [], description: '' }
    }
    policy.acceptManifest(team.manifest({ version: 2, roles }))
    expect(policy.verifyCertificate(cert).roles).toEqual(['backend_developer', 'release_manager'])
  })

  it('verifies the same bytes once, and still refuses a cached certificate once it expired', () => {
    const team = makeTeam()
    const clock = testClock(T0)
    const policy = team.policy({ now: clock.now })
    const cert = team.certificate({ notBefore: T0, notAfter: T0 + DAY })
    for (let i = 0; i < 3; i++) policy.verifyCertificate(cert)
    expect(policy.stats()).toEqual({ certificatesVerified: 1, cacheHits: 2, cachedCertificates: 1 })
    // A copy each time: changing what one call returned changes nothing for the next.
    policy.verifyCertificate(cert).roles.push('admin')
    expect(policy.verifyCertificate(cert).roles).toEqual(['backend_developer'])
    clock.set(T0 + DAY)
    expect(thrown(InvalidCertificateError, () => policy.verifyCertificate(cert)).reason).toBe('expired')
    // A new manifest empties the cache.
    clock.set(T0)
    policy.acceptManifest(team.manifest({ version: 2 }))
    expect(policy.stats().cachedCertificates).toBe(0)
    policy.verifyCertificate(cert)
    expect(policy.stats().certificatesVerified).toBe(2)
  })

  it('keeps at most certificateCacheSize certificates, least recently used out first', () => {
    const team = makeTeam()
    const policy = team.policy({ certificateCacheSize: 2 })
    const [a, b, c] = [team.certificate(), team.certificate(), team.certificate()] as [
      Uint8Array,
      Uint8Array,
      Uint8Array
    ]
    policy.verifyCertificate(a)
    policy.verifyCertificate(b)
    policy.verifyCertificate(a) // a is now the most recent
    policy.verifyCertificate(c) // b goes
    expect(policy.stats()).toMatchObject({ certificatesVerified: 3, cacheHits: 1, cachedCertificates: 2 })
    policy.verifyCertificate(a)
    expect(policy.stats().cacheHits).toBe(2)
    policy.verifyCertificate(b)
    expect(policy.stats().certificatesVerified).toBe(4)
  })
})

describe('roles and recipients', () => {
  it("builds crypto's registry from the manifest's roles only, and lists current and retired recipients", () => {
    const team = makeTeam()
    const current = ageRecipient()
    const old = ageRecipient()
    const roles = {
      lead: { authority: 'decision' as const, canDecrypt: ['*'], description: 'leads' },
      dev: { authority: 'suggestion' as const, canDecrypt: ['dev'], description: 'builds' }
    }
    const recipients = {
      dev: [
        { keyId: keyIdOf(current), recipient: current, status: 'current' as const, createdAt: T0 },
        { keyId: keyIdOf(old), recipient: old, status: 'retired' as const, createdAt: T0 - DAY }
      ]
    }
    const policy = team.policy({ manifest: team.manifest({ roles, recipients }) })
    const registry = policy.roleRegistry()
    expect(registry.list().map((r) => r.name)).toEqual(['dev', 'lead'])
    expect(registry.has('backend_developer')).toBe(false)
    expect(registry.decryptableRoles('dev')).toEqual(['dev', 'lead'])
    expect(policy.recipients('dev')).toEqual([current])
    expect(policy.retiredRecipients('dev')).toEqual([old])
    expect(policy.recipients('lead')).toEqual([])
    expect(() => policy.recipients('backend_developer')).toThrow()
  })
})
