import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createHostCheck, hostnameOf } from '../src/api/host-check.js'
import { createClient } from '../src/cli/client.js'
import { CliError } from '../src/cli/exit-codes.js'

describe('the API host check (DNS rebinding)', () => {
  const check = createHostCheck(['chorus.internal'])

  it('takes IP literals, localhost names and listed names, with or without a port', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.1:8080',
      '10.1.2.3:80',
      '[::1]:8080',
      '[fe80::1]',
      'localhost:3000',
      'LOCALHOST',
      'agent.localhost:1',
      'chorus.internal:443',
      'Chorus.Internal.'
    ]) {
      expect(check(host), host).toBe(true)
    }
  })

  it('refuses other names, a missing header and malformed values', () => {
    for (const host of [
      undefined,
      '',
      'rebound.example:8080',
      'localhost.example',
      '127.0.0.1.nip.io',
      'chorus.internal.evil',
      'localhost:abc',
      '[::1',
      '::1',
      'a'.repeat(400)
    ]) {
      expect(check(host), String(host)).toBe(false)
    }
    expect(createHostCheck()('chorus.internal')).toBe(false)
  })

  it('parses host[:port]', () => {
    expect(hostnameOf('[::1]:80')).toBe('::1')
    expect(hostnameOf('Example.COM:8080')).toBe('example.com')
    expect(hostnameOf('x:99999999')).toBeUndefined()
  })
})

describe('the CLI sends its token only where it should', () => {
  let dir: string | undefined
  const fetchSpy = vi.fn(async () => new Response('{}', { status: 200 }))
  afterEach(() => {
    vi.unstubAllGlobals()
    fetchSpy.mockClear()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    dir = undefined
  })

  function dataDir(url: string, mode = 0o600): string {
    dir = mkdtempSync(join(tmpdir(), 'chorus-cli-'))
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({ url }), { mode })
    chmodSync(join(dir, 'agent.json'), mode)
    writeFileSync(join(dir, 'api-token'), 'secret-token', { mode: 0o600 })
    return dir
  }

  it('refuses a non-loopback URL from agent.json before any request', async () => {
    vi.stubGlobal('fetch', fetchSpy)
    expect(() => createClient({ dataDir: dataDir('http://attacker.example:4000') }, {})).toThrow(
      /refusing to send the API token to attacker\.example:4000/
    )
    expect(() => createClient({ dataDir: dataDir('file:///etc/passwd') }, {})).toThrow(CliError)
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  it('takes a loopback URL, or a host the user listed, and sends the token there', async () => {
    vi.stubGlobal('fetch', fetchSpy)
    const local = createClient({ dataDir: dataDir('http://127.0.0.1:4000') }, {})
    await local.status()
    expect(fetchSpy).toHaveBeenCalledTimes(1)
    const [request] = fetchSpy.mock.calls[0] as unknown as [Request]
    expect(request.url).toBe('http://127.0.0.1:4000/v1/status')
    expect(request.headers.get('authorization')).toBe('Bearer secret-token')
    const listed = createClient(
      { dataDir: dataDir('https://chorus.internal:4000') },
      { CHORUS_AGENT_HOSTS: 'other, chorus.internal' }
    )
    expect(listed.url).toBe('https://chorus.internal:4000')
  })

  it('refuses an agent.json other users can write', () => {
    expect(() => createClient({ dataDir: dataDir('http://127.0.0.1:4000', 0o666) }, {})).toThrow(
      /can be written by other users/
    )
  })
})
