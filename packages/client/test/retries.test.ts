/**
 * Retries, time limits and typed errors against a real HTTP server on a local port that answers
 * what an agent answers (its status codes and error bodies), counting what reaches it: what is
 * sent again and, above all, what is not (a store that may have run).
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ChorusError, OperationTimeoutError } from '@chorus/common'
import { afterEach, describe, expect, it } from 'vitest'
import {
  AgentAPIError,
  AgentUnreachableError,
  backoffMs,
  CLIENT_ERROR_CODES,
  createChorusClient,
  isIdempotent,
  retryAfterMs,
  retryDefaults
} from '../src/index.js'

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void
const servers: Server[] = []

async function serve(handler: Handler, port = 0): Promise<{ url: string; hits: string[]; server: Server }> {
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`)
    req.resume()
    req.on('end', () => handler(req, res, hits.length))
  })
  servers.push(server)
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server }
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}
const refusal = (code: string, message = 'refused') => ({ error: { code, message } })
const STORED = { address: 'ucxl://a:r@p:t/*^/x', metadata: { address: 'x', version: 1 } }
const fast = { retries: 3, baseDelayMs: 10, maxDelayMs: 50 }

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    s.close()
  }
})

describe('retries', () => {
  it('a read is sent again on 502/503/504 and 429, with the bearer token each time', async () => {
    const statuses = [502, 503, 429, 200]
    const agent = await serve((_req, res, n) =>
      n < 4
        ? json(res, statuses[n - 1]!, refusal(`UCXL-${statuses[n - 1]}-X`), { 'retry-after': '0' })
        : json(res, 200, { ok: true })
    )
    const client = createChorusClient({ baseUrl: agent.url, token: 's3cret', retry: fast })
    await expect(client.status()).resolves.toEqual({ ok: true })
    expect(agent.hits).toEqual(Array(4).fill('GET /v1/status Bearer s3cret'))
  })

  it('a read gives up after `retries` and throws the last refusal, typed, with its UCXL code', async () => {
    const agent = await serve((_req, res) =>
      json(res, 503, refusal('UCXL-503-QUORUM_NOT_REACHED', 'no quorum'))
    )
    const client = createChorusClient({ baseUrl: agent.url, retry: { ...fast, retries: 2 } })
    const err = await client.list().catch((e: unknown) => e)
    expect(AgentAPIError.isInstance(err) && ChorusError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ status: 503, code: 'UCXL-503-QUORUM_NOT_REACHED', message: 'no quorum' })
    expect(agent.hits).toHaveLength(3)
  })

  it('a store that may have run (503 quorum, 504, reset connection) is never sent again', async () => {
    for (const answer of [
      (res: ServerResponse) => json(res, 503, refusal('UCXL-503-QUORUM_NOT_REACHED')),
      (res: ServerResponse) => json(res, 504, refusal('UCXL-504-TIMEOUT')),
      (res: ServerResponse) => res.socket?.destroy()
    ]) {
      const agent = await serve((_req, res) => answer(res))
      const client = createChorusClient({ baseUrl: agent.url, retry: fast })
      const err = await client.store({ address: STORED.address, content: 'x' }).catch((e: unknown) => e)
      expect(AgentAPIError.isInstance(err) || AgentUnreachableError.isInstance(err)).toBe(true)
      expect(agent.hits, 'one store reached the agent').toHaveLength(1)
      // a delete neither
      await client.delete(STORED.address).catch(() => undefined)
      expect(agent.hits.filter((h) => h.startsWith('DELETE'))).toHaveLength(1)
    }
  })

  it('a store refused before it ran (503 UCXL-503-NOT_READY) is sent again', async () => {
    const agent = await serve((_req, res, n) =>
      n === 1 ? json(res, 503, refusal('UCXL-503-NOT_READY')) : json(res, 201, STORED)
    )
    const client = createChorusClient({ baseUrl: agent.url, retry: fast })
    const stored = await client.store({ address: STORED.address, content: new Uint8Array([1, 2, 3]) })
    expect(stored.metadata.version).toBe(1)
    expect(agent.hits).toHaveLength(2)
  })

  it('a read on a reset connection is sent again', async () => {
    const agent = await serve((_req, res, n) =>
      n === 1 ? res.socket?.destroy() : json(res, 200, { ok: true })
    )
    const client = createChorusClient({ baseUrl: agent.url, retry: fast })
    await expect(client.hybrid()).resolves.toEqual({ ok: true })
    expect(agent.hits).toHaveLength(2)
  })

  it('a store to a port nothing listens on yet is sent again (nothing was sent), and lands once', async () => {
    const probe = await serve(() => undefined)
    const port = (probe.server.address() as AddressInfo).port
    probe.server.close()
    await once(probe.server, 'close')
    const client = createChorusClient({
      baseUrl: probe.url,
      retry: { retries: 30, baseDelayMs: 50, maxDelayMs: 100 }
    })
    const storing = client.store({ address: STORED.address, content: 'x' })
    await new Promise((r) => setTimeout(r, 150))
    const agent = await serve((_req, res) => json(res, 201, STORED), port)
    await expect(storing).resolves.toEqual(STORED)
    expect(agent.hits).toHaveLength(1)
  })

  it('nothing listening: AgentUnreachableError (CLIENT_UNREACHABLE) once the retries are spent', async () => {
    const probe = await serve(() => undefined)
    probe.server.close()
    await once(probe.server, 'close')
    const client = createChorusClient({ baseUrl: probe.url, retry: fast })
    const err = await client.status().catch((e: unknown) => e)
    expect(AgentUnreachableError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ code: CLIENT_ERROR_CODES.UNREACHABLE, url: probe.url })
  })

  it('a Retry-After beyond maxRetryAfterMs is not waited for: the 429 is the answer', async () => {
    const agent = await serve((_req, res) =>
      json(res, 429, refusal('UCXL-429-RATE_LIMITED'), { 'retry-after': '3600' })
    )
    const client = createChorusClient({ baseUrl: agent.url, retry: fast })
    await expect(client.status()).rejects.toMatchObject({ status: 429, code: 'UCXL-429-RATE_LIMITED' })
    expect(agent.hits).toHaveLength(1)
  })

  it('a 4xx refusal is not retried and keeps its field and version', async () => {
    const agent = await serve((_req, res) =>
      json(res, 410, { error: { code: 'UCXL-410-DELETED', message: 'deleted', version: 4 } })
    )
    const client = createChorusClient({ baseUrl: agent.url, retry: fast })
    await expect(client.retrieve('ucxl://a:r@p:t/*^/x')).rejects.toMatchObject({
      status: 410,
      code: 'UCXL-410-DELETED',
      version: 4
    })
    expect(agent.hits).toHaveLength(1)
  })

  it('an answer without the error body gets HTTP_<status>', async () => {
    const agent = await serve((_req, res) => {
      res.writeHead(418, { 'content-type': 'text/plain' })
      res.end('teapot')
    })
    const client = createChorusClient({ baseUrl: agent.url, retry: fast })
    await expect(client.status()).rejects.toMatchObject({ status: 418, code: 'HTTP_418', message: 'teapot' })
  })
})

describe('signals and time limits', () => {
  it('a call that gets no answer ends at its time limit with CLIENT_TIMEOUT', async () => {
    const agent = await serve(() => undefined) // never answers
    const client = createChorusClient({ baseUrl: agent.url, timeoutMs: 200, retry: fast })
    const err = await client.status().catch((e: unknown) => e)
    expect(OperationTimeoutError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ code: CLIENT_ERROR_CODES.TIMEOUT, ms: 200 })
  })

  it("the caller's signal aborts a call waiting out its backoff, with the signal's AbortError", async () => {
    const agent = await serve((_req, res) => json(res, 503, refusal('UCXL-503-NOT_READY')))
    const client = createChorusClient({
      baseUrl: agent.url,
      retry: { retries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }
    })
    const controller = new AbortController()
    const reading = client.status({ signal: controller.signal })
    await new Promise((r) => setTimeout(r, 100))
    controller.abort()
    const err = await reading.catch((e: unknown) => e)
    expect((err as Error).name).toBe('AbortError')
    expect(agent.hits.length).toBeLessThanOrEqual(2)
  })

  it('readiness answers while not ready (503 is an answer there) and is not retried', async () => {
    const agent = await serve((_req, res) => json(res, 503, { ready: false, reason: 'joining' }))
    const client = createChorusClient({ baseUrl: agent.url, retry: fast })
    await expect(client.readiness()).resolves.toEqual({ ready: false, reason: 'joining' })
    expect(agent.hits).toHaveLength(1)
  })
})

describe('retry rules', () => {
  it('idempotent: reads and the repeatable POSTs; never a store or a delete', () => {
    expect(isIdempotent('GET', '/v1/content')).toBe(true)
    expect(isIdempotent('POST', '/v1/content/announce')).toBe(true)
    expect(isIdempotent('POST', '/v1/hybrid/backend')).toBe(true)
    expect(isIdempotent('POST', '/v1/content')).toBe(false)
    expect(isIdempotent('DELETE', '/v1/content')).toBe(false)
  })

  it('backoff: full jitter under an exponential bound, capped', () => {
    const o = { ...retryDefaults, baseDelayMs: 100, maxDelayMs: 1000 }
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, o, () => 0.999))).toEqual([99, 199, 399, 799, 999])
    expect(backoffMs(5, o, () => 0)).toBe(0)
  })

  it('Retry-After: seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000)
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000)
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs(null)).toBeUndefined()
  })
})
