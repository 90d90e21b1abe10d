// Files the agent reads are configuration, not input from peers, but a bad one must not reach
// further than its own refusal: no key reaches an object prototype, files that others can write
// are refused, and the agent's directories are private even when they already existed.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseRolesFile, RolesFileError } from '@chorus/crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { ConfigError } from '../src/errors.js'
import { ensurePrivateDir } from '../src/util/files.js'

const root = mkdtempSync(join(tmpdir(), 'chorus-hostile-config-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('configuration files', () => {
  it.each([
    ['YAML', 'c.yaml', '__proto__:\n  polluted: yes\napi:\n  port: 7000\n'],
    ['JSON', 'c.json', '{"api": {"port": 7000}, "dht": {"constructor": {"prototype": {"polluted": 1}}}}'],
    ['nested', 'n.yaml', 'api:\n  __proto__:\n    polluted: yes\n']
  ])('a %s config file with a prototype key is refused and pollutes nothing', (_kind, name, text) => {
    const file = join(root, name)
    writeFileSync(file, text, { mode: 0o600 })
    expect(() => loadConfig({ configFile: file, env: {} })).toThrow(ConfigError)
    expect(() => loadConfig({ configFile: file, env: {} })).toThrow(/reserved key name/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
    // the next load of a good file works as before
    const good = join(root, `good-${name}.yaml`)
    writeFileSync(good, 'api:\n  port: 7001\n', { mode: 0o600 })
    expect(loadConfig({ configFile: good, env: {} }).config.api.port).toBe(7001)
  })

  it('a roles file with a prototype key is a RolesFileError naming the key', () => {
    let err: unknown
    try {
      parseRolesFile('roles:\n  __proto__:\n    authority: master\n', { source: 'roles.yaml' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RolesFileError)
    expect(String((err as Error).message)).toMatch(/roles\.__proto__/)
    expect(({} as Record<string, unknown>).authority).toBeUndefined()
  })

  it('refuses a config file other users can write, naming the mode', () => {
    const file = join(root, 'group-writable.yaml')
    writeFileSync(file, 'api:\n  port: 7002\n')
    chmodSync(file, 0o664)
    expect(() => loadConfig({ configFile: file, env: {} })).toThrow(
      /can be written by other users \(mode 664\)/
    )
    chmodSync(file, 0o644)
    expect(loadConfig({ configFile: file, env: {} }).config.api.port).toBe(7002)
  })

  it('makes an existing data directory private', () => {
    const dir = join(root, 'existing')
    mkdirSync(dir, { mode: 0o755 })
    chmodSync(dir, 0o755)
    ensurePrivateDir(dir)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })
})
