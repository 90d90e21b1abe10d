/**
 * The console's access rules without a browser (fastify inject, a recording service): tickets are
 * minted with the token only and work once within their lifetime; a session cookie authenticates
 * /v1 reads; a cookie-authenticated state change needs the CSRF header and the agent's own
 * origin; the console's pages carry a strict CSP; the metrics ring stays bounded.
 */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentService } from '../src/agent/service.js'
import { peersView } from '../src/agent/views.js'
import { type APIServer, createAPIServer } from '../src/api/server.js'
import { createConsoleAccess, createConsoleSessions, createMetricsSampler } from '../src/console/index.js'

const calls: string[] = []
const service = new Proxy({} as AgentService, {
  get: (_t, name: string) => {
    if (name === 'isReady') return () => true
    if (name === 'agentId') return 'agent001'
    if (name === 'role') return 'backend_developer'
    if (name === 'metrics') return () => ({ storage: { storedItems: 1 } })
    return async () => {
      calls.push(name)
      return {}
    }
  }
})

describe('console access', () => {
  let api: APIServer
  const token = 'test-token'
  const HOST = '127.0.0.1:4000'

  beforeAll(async () => {
    api = createAPIServer({ service, token, logger: pino({ level: 'silent' }) })
    await api.app.ready()
  })
  afterAll(() => api.close())

  const inject = (
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string> = {},
    payload?: unknown
  ) => api.app.inject({ method, url, headers: { host: HOST, ...headers }, ...(payload ? { payload } : {}) })

  async function login(): Promise<{ cookie: string; csrf: string }> {
    const minted = await inject('POST', '/v1/console/tickets', { authorization: `Bearer ${token}` }, {})
    expect(minted.statusCode).toBe(201)
    const { path } = minted.json() as { path: string }
    const res = await inject('GET', path)
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/console/')
    const setCookie = String(res.headers['set-cookie'])
    expect(setCookie).toMatch(
      /^chorus_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/
    )
    const cookie = setCookie.split(';')[0]!
    const session = await inject('GET', '/v1/console/session', { cookie })
    expect(session.statusCode).toBe(200)
    return { cookie, csrf: (session.json() as { csrf: string }).csrf }
  }

  it('mints a ticket only with the token; a ticket works once; a bad one gets the login page with 401', async () => {
    expect((await inject('POST', '/v1/console/tickets', {}, {})).statusCode).toBe(401)
    const minted = await inject('POST', '/v1/console/tickets', { authorization: `Bearer ${token}` }, {})
    const { path, expiresAt } = minted.json() as { path: string; expiresAt: string }
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(60_000)
    expect((await inject('GET', path)).statusCode).toBe(303)
    const again = await inject('GET', path)
    expect(again.statusCode).toBe(401)
    expect(again.headers['set-cookie']).toBeUndefined()
    expect(again.headers['content-security-policy']).toContain("default-src 'none'")
    expect(again.body).toContain('chorus-node console')
    expect((await inject('GET', '/console/login?ticket=not-a-ticket')).statusCode).toBe(401)
  })

  it('a session cookie reads /v1; a state change needs the CSRF header and this origin; it cannot mint tickets', async () => {
    const { cookie, csrf } = await login()
    expect((await inject('GET', '/v1/status', { cookie })).statusCode).toBe(200)
    const body = { mode: 'auto' }
    calls.length = 0
    expect((await inject('POST', '/v1/hybrid/backend', { cookie }, body)).statusCode).toBe(403)
    expect(
      (await inject('POST', '/v1/hybrid/backend', { cookie, 'x-chorus-csrf': 'x'.repeat(43) }, body))
        .statusCode
    ).toBe(403)
    const foreign = { cookie, 'x-chorus-csrf': csrf, origin: 'http://evil.example' }
    expect((await inject('POST', '/v1/hybrid/backend', foreign, body)).statusCode).toBe(403)
    expect(calls).toEqual([])
    const own = { cookie, 'x-chorus-csrf': csrf, origin: `http://${HOST}` }
    expect((await inject('POST', '/v1/hybrid/backend', own, body)).statusCode).toBe(200)
    expect(calls).toEqual(['switchBackend'])
    expect(
      (await inject('POST', '/v1/console/tickets', { cookie, 'x-chorus-csrf': csrf }, {})).statusCode
    ).toBe(403)
    // logged out: the cookie no longer works
    expect(
      (await inject('POST', '/v1/console/logout', { cookie, 'x-chorus-csrf': csrf }, {})).statusCode
    ).toBe(200)
    expect((await inject('GET', '/v1/status', { cookie })).statusCode).toBe(401)
    expect((await inject('GET', '/v1/status', { cookie: 'chorus_console=forged' })).statusCode).toBe(401)
  })

  it('serves the pages without a token, with a strict CSP; only the exact console paths are open', async () => {
    const page = await inject('GET', '/console/')
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'.*frame-ancestors 'none'/)
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    expect(page.body).toContain('assets/app.js')
    const js = await inject('GET', '/console/assets/app.js')
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toContain('javascript')
    expect((await inject('GET', '/console/assets/nothing.js')).statusCode).toBe(404)
    const access = createConsoleAccess()
    for (const open of ['/console', '/console/', '/console/login', '/console/assets/app.js'])
      expect(access.isOpen(open), open).toBe(true)
    for (const closed of [
      '/console/../v1/status',
      '/consolex',
      '/console/assets/a/b.js',
      '/v1/console/session'
    ])
      expect(access.isOpen(closed), closed).toBe(false)
  })

  it('tickets and sessions expire, and both tables are bounded', () => {
    let now = 1_000_000
    const sessions = createConsoleSessions({ now: () => now, sessionTtlMs: 10_000, maxTickets: 2 })
    const late = sessions.mintTicket()
    now += 60_001
    expect(sessions.redeem(late.ticket)).toBeUndefined()
    const [a, b, c] = [sessions.mintTicket(), sessions.mintTicket(), sessions.mintTicket()]
    expect(sessions.redeem(a.ticket)).toBeUndefined() // pushed out by the newer two
    const s = sessions.redeem(c.ticket)!
    expect(sessions.redeem(b.ticket)).toBeDefined()
    expect(sessions.lookup(s.id)?.csrf).toBe(s.csrf)
    now += 10_001
    expect(sessions.lookup(s.id)).toBeUndefined()
  })

  it('keeps a bounded ring of samples and records switches of the active backend', () => {
    let active = 'real'
    let t = 0
    const sampler = createMetricsSampler({
      source: () => ({
        storage: { storedItems: t },
        dht: { totalPeers: 2 },
        hybrid: { activeBackend: active, mode: 'auto', failovers: 1 }
      }),
      capacity: 3,
      now: () => t
    })
    for (t = 1; t <= 5; t++) {
      if (t === 4) active = 'mock'
      sampler.sample()
    }
    expect(sampler.samples().map((s) => s.stores)).toEqual([3, 4, 5])
    expect(sampler.samples()[0]).toMatchObject({ peers: 2, retrieves: null })
    expect(sampler.switches()).toEqual([
      { at: 4, from: 'real', to: 'mock', mode: 'auto', failovers: 1, failbacks: 0 }
    ])
  })

  it("gives each connected peer's latency, connections (direct or relayed) and reputation", () => {
    const conn = (peer: string, addr: string, direction: string, extra: Record<string, unknown> = {}) => ({
      remotePeer: { toString: () => peer },
      remoteAddr: { toString: () => addr },
      direction,
      ...extra
    })
    const circuit = '/ip4/10.0.0.1/tcp/4001/p2p/relay/p2p-circuit/p2p/p1'
    const dht = {
      getConnectedPeers: () => ['p1', 'p2'],
      getKnownPeers: () => [],
      libp2p: {
        getConnections: () => [
          conn('p1', '/ip4/10.0.0.2/tcp/4001', 'inbound', { rtt: 12.345 }),
          // a relayed connection: circuit relay v2 gives it limits
          conn('p1', circuit, 'outbound', { limits: { seconds: 120 } })
        ]
      },
      reputation: { score: (id: string) => (id === 'p2' ? 40.123 : 0), isBanned: (id: string) => id === 'p2' }
    } as unknown as Parameters<typeof peersView>[0]
    expect(peersView(dht)).toMatchObject([
      {
        id: 'p1',
        latencyMs: 12.3,
        connections: [
          { direction: 'inbound', relayed: false, remoteAddress: '/ip4/10.0.0.2/tcp/4001' },
          { direction: 'outbound', relayed: true, remoteAddress: circuit }
        ],
        reputation: { score: 0, banned: false }
      },
      { id: 'p2', latencyMs: null, connections: [], reputation: { score: 40.12, banned: true } }
    ])
  })
})
