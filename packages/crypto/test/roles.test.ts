import { describe, expect, it } from 'vitest'
import {
  AUTHORITY_LEVELS,
  createRoleRegistry,
  getPredefinedRoles,
  RolesFileError,
  UnknownRoleError
} from '../src/index.js'

describe('predefined roles', () => {
  const roles = getPredefinedRoles()

  it('has the reference roles with their authority levels', () => {
    expect(roles.admin).toMatchObject({ authority: 'master', canDecrypt: ['admin'] })
    expect(roles.senior_architect).toMatchObject({ authority: 'decision', canDecrypt: ['*'] })
    expect(roles.observer?.authority).toBe('read_only')
    expect(roles.devops_engineer?.canDecrypt).toContain('backend_developer')
    for (const name of ['backend_developer', 'frontend_developer', 'qa_engineer'])
      expect(roles[name]).toBeDefined()
    for (const r of Object.values(roles)) expect(AUTHORITY_LEVELS).toContain(r.authority)
  })

  it('is a fresh, frozen copy each time', () => {
    const a = getPredefinedRoles()
    expect(Object.isFrozen(a.admin)).toBe(true)
    expect(a).not.toBe(getPredefinedRoles())
  })
})

describe('role registry', () => {
  const registry = createRoleRegistry()

  it("backend_developer content opens for exactly the reference's roles", () => {
    expect(new Set(registry.decryptableRoles('backend_developer'))).toEqual(
      new Set(['backend_developer', 'senior_architect', 'devops_engineer'])
    )
    expect(registry.decryptableRoles('backend_developer')[0]).toBe('backend_developer')
    for (const other of ['frontend_developer', 'qa_engineer', 'observer', 'admin']) {
      expect(registry.canDecrypt(other, 'backend_developer')).toBe(false)
    }
  })

  it('follows the reference rule for every creator: creator + roles listing it or *', () => {
    for (const creator of registry.list().map((r) => r.name)) {
      const expected = new Set([creator])
      for (const r of registry.list()) {
        if (r.canDecrypt.includes(creator) || r.canDecrypt.includes('*')) expected.add(r.name)
      }
      const got = registry.decryptableRoles(creator)
      expect(new Set(got)).toEqual(expected)
      expect(got.length).toBe(expected.size) // no duplicates (admin creating lists admin once)
    }
  })

  it('canStore is false only for read-only roles', () => {
    expect(registry.canStore('observer')).toBe(false)
    expect(registry.canStore('backend_developer')).toBe(true)
    expect(registry.canStore('admin')).toBe(true)
  })

  it('unknown roles are errors, never a silent allow', () => {
    expect(() => registry.get('intruder')).toThrow(UnknownRoleError)
    expect(() => registry.canStore('intruder')).toThrow(UnknownRoleError)
    expect(() => registry.decryptableRoles('intruder')).toThrow(UnknownRoleError)
    expect(() => registry.canDecrypt('intruder', 'backend_developer')).toThrow(UnknownRoleError)
    expect(() => registry.canDecrypt('admin', 'intruder')).toThrow(UnknownRoleError)
    try {
      registry.get('intruder')
    } catch (err) {
      expect((err as UnknownRoleError).code).toBe('CRYPTO_UNKNOWN_ROLE')
      expect((err as UnknownRoleError).role).toBe('intruder')
    }
    expect(registry.has('intruder')).toBe(false)
  })

  it('adds and overrides roles from code', () => {
    const r = createRoleRegistry({
      release_manager: { authority: 'coordination', canDecrypt: ['backend_developer', 'devops_engineer'] },
      observer: { authority: 'suggestion', canDecrypt: ['qa_engineer'] }
    })
    expect(r.decryptableRoles('backend_developer')).toContain('release_manager')
    expect(r.canStore('observer')).toBe(true)
    expect(r.decryptableRoles('qa_engineer')).toContain('observer')
    // The default registry is untouched.
    expect(registry.canStore('observer')).toBe(false)
  })

  it('validates definitions given in code, naming the field', () => {
    expect(() => createRoleRegistry({ x: { authority: 'boss' as never } })).toThrow(/roles\.x\.authority/)
    expect(() => createRoleRegistry({ 'bad name!': { authority: 'decision' } })).toThrow(RolesFileError)
    const typo = () =>
      createRoleRegistry({ ops: { authority: 'decision', canDecrypt: ['backend_develper'] } })
    expect(typo).toThrow(RolesFileError)
    expect(typo).toThrow(/roles\.ops\.canDecrypt\.0.*backend_develper/)
  })

  it('can be built without the predefined roles', () => {
    const r = createRoleRegistry(
      { solo: { authority: 'master', canDecrypt: ['*'] } },
      { includePredefined: false }
    )
    expect(r.list().map((x) => x.name)).toEqual(['solo'])
  })
})
