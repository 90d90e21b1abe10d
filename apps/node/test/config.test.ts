import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { chooseBootstrapPeers } from '../src/config/assignment.js'
import { ConfigError, loadConfig } from '../src/config/load.js'
import {
  envName,
  flagName,
  SETTINGS,
  settingsMarkdownTable,
  withSettingsTable
} from '../src/config/settings.js'

const PEER = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGRUVh6ezBWo4dhZm2Lw8A9yqGS1r7HPy9A8Cx2Yy9sbZ'
const PEER2 = '/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWGRUVh6ezBWo4dhZm2Lw8A9yqGS1r7HPy9A8Cx2Yy9sbZ'

const dirs: string[] = []
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chorus-config-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function problems(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).exitCode).toBe(2)
    return (err as ConfigError).problems
  }
  throw new Error('expected a ConfigError')
}

describe('config layering', () => {
  it('embedded defaults: loopback listen, data dir under cwd, no peers', () => {
    const cwd = dir()
    const { config } = loadConfig({ env: {}, cwd })
    expect(config.dataDir).toBe(join(cwd, '.chorus'))
    expect(config.listen).toEqual(['/ip4/127.0.0.1/tcp/0'])
    expect(config.bootstrapPeers).toEqual([])
    expect(config.api.host).toBe('127.0.0.1')
    expect(config.keys.dir).toBe(join(cwd, '.chorus', 'keys'))
    expect(config.replication.factor).toBe(3)
  })

  it('file < env < flags', () => {
    const cwd = dir()
    const file = join(cwd, 'c.yaml')
    writeFileSync(file, 'role: devops_engineer\napi:\n  port: 7001\nreplication:\n  factor: 2\n')
    const a = loadConfig({ configFile: file, env: {}, cwd })
    expect(a.config.role).toBe('devops_engineer')
    expect(a.config.api.port).toBe(7001)
    const b = loadConfig({
      configFile: file,
      env: { CHORUS_API_PORT: '7002', CHORUS_ROLE: 'qa_engineer' },
      cwd
    })
    expect(b.config.api.port).toBe(7002)
    expect(b.config.role).toBe('qa_engineer')
    expect(b.sources['api.port']).toBe('env CHORUS_API_PORT')
    const c = loadConfig({
      configFile: file,
      env: { CHORUS_API_PORT: '7002' },
      flags: { 'api.port': '7003' },
      cwd
    })
    expect(c.config.api.port).toBe(7003)
    expect(c.config.replication.factor).toBe(2)
  })

  it('JSON config files work too, and CHORUS_CONFIG names the file', () => {
    const cwd = dir()
    writeFileSync(join(cwd, 'c.json'), JSON.stringify({ capabilities: ['a', 'b'], log: { level: 'debug' } }))
    const { config } = loadConfig({ env: { CHORUS_CONFIG: 'c.json' }, cwd })
    expect(config.capabilities).toEqual(['a', 'b'])
    expect(config.log.level).toBe('debug')
  })

  it('bootstrap peers: assignment file > config file > env', () => {
    const cwd = dir()
    const file = join(cwd, 'c.yaml')
    writeFileSync(file, `bootstrapPeers: ['${PEER}']\n`)
    const envOnly = loadConfig({ env: { CHORUS_BOOTSTRAP_PEERS: PEER2 }, cwd })
    expect(chooseBootstrapPeers(envOnly.config)).toEqual({ peers: [PEER2], source: 'config' })
    const both = loadConfig({ configFile: file, env: { CHORUS_BOOTSTRAP_PEERS: PEER2 }, cwd })
    expect(both.config.bootstrapPeers).toEqual([PEER])
    const assignment = join(cwd, 'assign.yaml')
    writeFileSync(assignment, `bootstrapPeers: ['${PEER2}']\n`)
    const assigned = loadConfig({ configFile: file, env: { CHORUS_ASSIGNMENT_FILE: assignment }, cwd })
    expect(chooseBootstrapPeers(assigned.config)).toEqual({ peers: [PEER2], source: 'assignment' })
  })

  it('refuses an unknown key, naming it', () => {
    const cwd = dir()
    const file = join(cwd, 'c.yaml')
    writeFileSync(file, 'api:\n  prot: 1\n')
    expect(problems(() => loadConfig({ configFile: file, env: {}, cwd })).join('\n')).toMatch(
      /unknown setting api\.prot/
    )
    expect(problems(() => loadConfig({ env: { CHORUS_NOPE: '1' }, cwd })).join('\n')).toMatch(/CHORUS_NOPE/)
  })

  it('refuses a bad multiaddr and a bootstrap peer without /p2p/', () => {
    const cwd = dir()
    expect(
      problems(() => loadConfig({ env: { CHORUS_LISTEN: '/ip4/999.1.1.1/tcp/1' }, cwd })).join('\n')
    ).toMatch(/listen item 0 \(env CHORUS_LISTEN\): not a valid multiaddr/)
    expect(
      problems(() => loadConfig({ env: { CHORUS_BOOTSTRAP_PEERS: '/ip4/127.0.0.1/tcp/1' }, cwd })).join('\n')
    ).toMatch(/\/p2p\//)
  })

  it('refuses bad values with the source and the value', () => {
    const cwd = dir()
    const p = problems(() =>
      loadConfig({ env: { CHORUS_API_PORT: 'abc' }, flags: { 'replication.factor': '0' }, cwd })
    )
    expect(p.join('\n')).toMatch(/api\.port \(env CHORUS_API_PORT\): expected a whole number, got "abc"/)
    const q = problems(() =>
      loadConfig({ env: {}, flags: { 'replication.factor': '0', 'log.level': 'loud' }, cwd })
    )
    expect(q.join('\n')).toMatch(/replication\.factor \(flag --replication-factor\)/)
    expect(q.join('\n')).toMatch(/log\.level/)
    const file = join(cwd, 'bad.yaml')
    writeFileSync(file, 'role: [1\n')
    expect(problems(() => loadConfig({ configFile: file, env: {}, cwd })).join('\n')).toMatch(
      /not valid YAML/
    )
  })

  it('derives one env var and one flag per setting, all distinct', () => {
    const envs = SETTINGS.map((s) => envName(s.path))
    const flags = SETTINGS.map((s) => flagName(s.path))
    expect(new Set(envs).size).toBe(SETTINGS.length)
    expect(new Set(flags).size).toBe(SETTINGS.length)
    expect(envName('api.bodyLimitBytes')).toBe('CHORUS_API_BODY_LIMIT_BYTES')
    expect(flagName('api.bodyLimitBytes')).toBe('--api-body-limit-bytes')
  })

  it('keeps read and write timeouts apart', () => {
    const cwd = dir()
    const { config } = loadConfig({
      env: { CHORUS_STORAGE_READ_TIMEOUT_MS: '1500' },
      flags: { 'storage.writeTimeoutMs': '4000' },
      cwd
    })
    expect(config.storage.readTimeoutMs).toBe(1500)
    expect(config.storage.writeTimeoutMs).toBe(4000)
    expect(
      problems(() => loadConfig({ env: { CHORUS_STORAGE_READ_TIMEOUT_MS: '5' }, cwd })).join('\n')
    ).toMatch(/storage\.readTimeoutMs/)
  })

  it("matches the README's settings table (run `pnpm --filter @chorus/node readme` after a change)", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    expect(readme).toContain(settingsMarkdownTable())
    expect(withSettingsTable(readme)).toBe(readme)
  })
})
