/**
 * The routes' input validation and what they hand the agent, with a recording service (no agent,
 * no network): each refusal is a typed 400 before the service is called.
 */
import { InvalidDecisionError } from '@chorus/storage'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentService } from '../src/agent/service.js'
import { type APIServer, createAPIServer } from '../src/api/server.js'

const calls: Array<[string, unknown[]]> = []
const service = new Proxy({} as AgentService, {
  get: (_t, name: string) => {
    if (name === 'isReady') return () => true
    if (name === 'store')
      return async (req: { contentType: string; content: Uint8Array }) => {
        calls.push(['store', [req.contentType]])
        if (req.contentType === 'decision') throw new InvalidDecisionError('rationale', 'must not be empty')
        return { version: 1 }
      }
    return async (...args: unknown[]) => {
      calls.push([name, args])
      return name === 'retrieve' ? { content: new Uint8Array(), metadata: {} } : {}
    }
  }
})

describe('API routes: validation', () => {
  let api: APIServer
  const token = 'test-token'
  const A = 'ucxl://agent001:backend_developer@project123:task456/*^/x'
  const send = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    api.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {})
    })

  beforeAll(async () => {
    api = createAPIServer({ service, token, logger: pino({ level: 'silent' }) })
    await api.app.ready()
  })
  afterAll(() => api.close())

  it('stores the content types storage accepts, text/plain by default, and refuses others', async () => {
    calls.length = 0
    for (const contentType of ['application/ld+json', 'text/plain', undefined]) {
      const r = await send('POST', '/v1/content', { address: A, content: 'x', contentType })
      expect(r.statusCode).toBe(201)
    }
    expect(calls.map(([, [t]]) => t)).toEqual(['application/ld+json', 'text/plain', 'text/plain'])
    for (const contentType of ['bad type!', 'a'.repeat(65), 'x;y']) {
      const r = await send('POST', '/v1/content', { address: A, content: 'x', contentType })
      expect(r.statusCode).toBe(400)
    }
    expect(calls).toHaveLength(3)
  })

  it('answers an invalid decision with 400 UCXL-400-INVALID_DECISION naming the field', async () => {
    const r = await send('POST', '/v1/content', { address: A, content: '{}', contentType: 'decision' })
    expect(r.statusCode).toBe(400)
    expect(r.json().error).toMatchObject({ code: 'UCXL-400-INVALID_DECISION', field: 'rationale' })
  })

  it('passes from, limits and pattern fields through, and refuses them out of range', async () => {
    calls.length = 0
    const q = encodeURIComponent(A)
    expect((await send('GET', `/v1/content?address=${q}&from=3`)).statusCode).toBe(200)
    expect(calls.at(-1)).toEqual(['retrieve', [A, { fresh: false, from: 3 }]])
    for (const bad of ['from=0', 'from=-1', 'from=x']) {
      expect((await send('GET', `/v1/content?address=${q}&${bad}`)).statusCode).toBe(400)
    }
    expect((await send('GET', `/v1/versions?address=${q}`)).statusCode).toBe(200)
    expect(calls.at(-1)).toEqual(['versions', [A, 100]])
    expect((await send('GET', `/v1/versions?address=${q}&limit=0`)).statusCode).toBe(400)
    expect((await send('GET', `/v1/content/providers?address=${q}`)).statusCode).toBe(200)
    expect(calls.at(-1)).toEqual(['providers', [A, 10]])
    expect((await send('GET', `/v1/content/providers?address=${q}&limit=101`)).statusCode).toBe(400)
    const search = await send(
      'GET',
      `/v1/search?address=${encodeURIComponent('ucxl://any:any@project123:any/**')}&decisionTask=t1&allVersions=true`
    )
    expect(search.statusCode).toBe(200)
    expect(calls.at(-1)?.[1]).toEqual([
      { address: 'ucxl://any:any@project123:any/**', decisionTask: 't1', allVersions: true, limit: 100 }
    ])
    expect((await send('GET', `/v1/search?decisionTask=${'t'.repeat(513)}`)).statusCode).toBe(400)
  })

  it('checks role and capability names, and announce bodies', async () => {
    calls.length = 0
    expect((await send('GET', '/v1/peers/role/senior_architect')).statusCode).toBe(200)
    expect((await send('GET', '/v1/peers/capability/ucxl-storage')).statusCode).toBe(200)
    expect(calls).toEqual([
      ['findPeers', ['role', 'senior_architect']],
      ['findPeers', ['capability', 'ucxl-storage']]
    ])
    for (const url of [
      '/v1/peers/role/bad%20name',
      '/v1/peers/capability/no!',
      `/v1/peers/capability/${'c'.repeat(129)}`
    ]) {
      const r = await send('GET', url)
      expect(r.statusCode).toBe(400)
      expect(r.json().error.code).toBe('UCXL-400-BAD_REQUEST')
    }
    expect((await send('GET', `/v1/peers/role/${'r'.repeat(128)}`)).statusCode).toBe(200)
    expect(calls).toHaveLength(3)
    expect((await send('POST', '/v1/content/announce', { address: A })).statusCode).toBe(200)
    expect((await send('POST', '/v1/content/announce', {})).statusCode).toBe(400)
    expect((await send('POST', '/v1/content/announce', { address: A, more: 1 })).statusCode).toBe(400)
    expect(calls.filter(([n]) => n === 'announce')).toHaveLength(1)
  })
})
