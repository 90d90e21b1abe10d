import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config/load.js'
import { envName, flagName, SETTING_ALIASES, SETTINGS } from '../src/config/settings.js'

const dirs: string[] = []
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chorus-aliases-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('settings named as the library options, old names deprecated', () => {
  it('no alias collides with a setting or another alias, in path, env or flag', () => {
    const names = [...SETTINGS.map((s) => s.path), ...SETTING_ALIASES.keys()]
    expect(new Set(names).size).toBe(names.length)
    expect(new Set(names.map(envName)).size).toBe(names.length)
    expect(new Set(names.map(flagName)).size).toBe(names.length)
    expect(envName('storage.cacheTTL')).toBe('CHORUS_STORAGE_CACHE_TTL')
    expect(flagName('replication.providerTTL')).toBe('--replication-provider-ttl')
  })

  it('accepts the old names in the file, env and flags, and reports them', () => {
    const cwd = dir()
    const file = join(cwd, 'c.yaml')
    writeFileSync(
      file,
      'replication:\n  factor: 2\n  autoReplicate: false\nhybrid:\n  healthCheckIntervalMs: 700\n'
    )
    const { config, deprecated } = loadConfig({
      configFile: file,
      env: { CHORUS_STORAGE_CACHE_TTL_MS: '1234' },
      flags: { 'dht.bootstrapTimeoutMs': '4321' },
      cwd
    })
    expect(config.replication.replicationFactor).toBe(2)
    expect(config.replication.enableAutoReplication).toBe(false)
    expect(config.hybrid.probeInterval).toBe(700)
    expect(config.storage.cacheTTL).toBe(1234)
    expect(config.dht.bootstrapTimeout).toBe(4321)
    // the old names still read
    expect(config.replication.factor).toBe(2)
    expect(config.storage.cacheTtlMs).toBe(1234)
    // but are not part of the configuration's JSON
    expect(JSON.stringify(config)).not.toMatch(/cacheTtlMs/)
    expect(deprecated.join('\n')).toMatch(/replication\.factor .*use replication\.replicationFactor/)
    expect(deprecated.join('\n')).toMatch(
      /CHORUS_STORAGE_CACHE_TTL_MS is deprecated: use CHORUS_STORAGE_CACHE_TTL/
    )
    expect(deprecated.join('\n')).toMatch(
      /--dht-bootstrap-timeout-ms is deprecated: use --dht-bootstrap-timeout/
    )
  })

  it('the current name wins over the old one', () => {
    const cwd = dir()
    const { config } = loadConfig({
      env: { CHORUS_HYBRID_OPERATION_TIMEOUT_MS: '1000', CHORUS_HYBRID_OPERATION_TIMEOUT: '2000' },
      flags: { 'storage.retrieveTimeout': '3000', 'storage.readTimeoutMs': '4000' },
      cwd
    })
    expect(config.hybrid.operationTimeout).toBe(2000)
    expect(config.storage.retrieveTimeout).toBe(3000)
  })

  it('names the old name in a problem with a value given under it', () => {
    const cwd = dir()
    expect(() => loadConfig({ env: { CHORUS_REPLICATION_MAX_CONCURRENT: '0' }, cwd })).toThrow(
      /replication\.maxConcurrent \(env CHORUS_REPLICATION_MAX_CONCURRENT\)/
    )
  })
})
