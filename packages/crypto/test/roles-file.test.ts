import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRolesFile, parseRolesFile, RolesFileError } from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'chorus-roles-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function error(text: string): RolesFileError {
  try {
    parseRolesFile(text, { source: 'roles.yaml' })
  } catch (err) {
    expect(err).toBeInstanceOf(RolesFileError)
    return err as RolesFileError
  }
  throw new Error('expected the roles file to be refused')
}

describe('roles file', () => {
  it('loads YAML that adds and overrides roles', async () => {
    const path = join(dir, 'roles.yaml')
    writeFileSync(
      path,
      [
        'roles:',
        '  release_manager:',
        '    authority: coordination',
        '    description: ships releases',
        '    canDecrypt: [backend_developer, devops_engineer]',
        '  observer:',
        '    authority: suggestion',
        ''
      ].join('\n')
    )
    const registry = await loadRolesFile(path)
    expect(registry.get('release_manager').description).toBe('ships releases')
    expect(registry.decryptableRoles('devops_engineer')).toContain('release_manager')
    expect(registry.canStore('observer')).toBe(true)
    expect(registry.has('admin')).toBe(true)
  })

  it('loads JSON', async () => {
    const path = join(dir, 'roles.json')
    writeFileSync(
      path,
      JSON.stringify({ roles: { auditor: { authority: 'read_only', canDecrypt: ['*'] } } }, null, 2)
    )
    const registry = await loadRolesFile(path)
    expect(registry.canStore('auditor')).toBe(false)
    expect(registry.decryptableRoles('frontend_developer')).toContain('auditor')
  })

  it('names the line and field of a bad value', () => {
    const err = error(
      ['roles:', '  ok_role:', '    authority: decision', '  bad_role:', '    authority: boss', ''].join('\n')
    )
    expect(err.field).toBe('roles.bad_role.authority')
    expect(err.line).toBe(5)
    expect(err.message).toMatch(/^roles\.yaml:5:\d+: roles\.bad_role\.authority/)
  })

  it('names the line of an unknown field and of a typo in canDecrypt', () => {
    const unknown = error(
      ['roles:', '  r1:', '    authority: decision', '    canDecript: [admin]', ''].join('\n')
    )
    expect(unknown.field).toBe('roles.r1')
    expect(unknown.message).toMatch(/canDecript/)
    const typo = error(
      [
        'roles:',
        '  r1:',
        '    authority: decision',
        '    canDecrypt:',
        '      - admin',
        '      - qa_enginer',
        ''
      ].join('\n')
    )
    expect(typo.field).toBe('roles.r1.canDecrypt.1')
    expect(typo.line).toBe(6)
  })

  it('reports the position of a syntax error and of JSON errors', () => {
    const syntax = error('roles:\n  r1: [unclosed\n')
    expect(syntax.line).toBeGreaterThanOrEqual(2)
    const json = error('{\n  "roles": {\n    "r1": { "authority": 7 }\n  }\n}')
    expect(json.field).toBe('roles.r1.authority')
    expect(json.line).toBe(3)
  })

  it('refuses a file without roles and a missing file', async () => {
    expect(error('roles: {}\n').field).toBe('roles')
    expect(error('nothing: here\n')).toBeInstanceOf(RolesFileError)
    await expect(loadRolesFile(join(dir, 'missing.yaml'))).rejects.toBeInstanceOf(RolesFileError)
  })

  it('refuses unresolved aliases and alias bombs with a RolesFileError', () => {
    expect(error('roles: *a\n').message).toMatch(/alias/i)
    expect(error('roles:\n  x: *y\n')).toBeInstanceOf(RolesFileError)
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
      { length: 8 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`
    ).join('\n')}\nroles: *i\n`
    expect(error(bomb)).toBeInstanceOf(RolesFileError)
  })
})
