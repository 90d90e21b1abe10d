/**
 * The CLI's requests go through @chorus/client and keep the CLI's exit codes: the built
 * `chorus-node` against a local HTTP server answering what an agent answers (status and error
 * body), against a port where nothing listens, and against one that never answers. What reaches
 * the server is counted: a read the agent refused before it ran is sent again, a store that may
 * have run is not.
 */
import { once } from 'node:events'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from './helpers.js'

const servers: Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    s.close()
  }
})

/** A server answering `status` with `code` to everything; resolves to its URL and what it received. */
async function agentAnswering(status: number, code?: string) {
  const hits: string[] = []
  const server = createServer((req, res: ServerResponse) => {
    hits.push(`${req.method} ${req.url?.split('?')[0]} ${req.headers.authorization}`)
    req.resume()
    if (status === 0) return // never answers
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(code === undefined ? { ok: true } : { error: { code, message: 'refused here' } }))
  })
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server }
}

const env = (url: string) => ({ CHORUS_AGENT_URL: url, CHORUS_API_TOKEN: 'cli-token' })
const ADDRESS = 'ucxl://agent001:backend_developer@p:t/*^/x'

describe('the CLI through @chorus/client', () => {
  it.each([
    [403, 'UCXL-403-ACCESS_DENIED', 4],
    [404, 'UCXL-404-NOT_FOUND', 3],
    [410, 'UCXL-410-DELETED', 3],
    [400, 'UCXL-400-INVALID_ADDRESS', 2],
    [422, 'UCXL-422-INTEGRITY', 1],
    [500, 'UCXL-500-INTERNAL', 1]
  ])('an agent answering %i %s: exit %i, the code on stderr', async (status, code, exit) => {
    const agent = await agentAnswering(status, code)
    const res = await runCli(['get', ADDRESS, '--json'], env(agent.url))
    expect(res.code, res.stderr).toBe(exit)
    expect(JSON.parse(res.stderr)).toEqual({ error: { code, message: 'refused here' } })
    expect(agent.hits).toEqual(['GET /v1/content Bearer cli-token'])
  })

  it('a read refused with 503 is sent again, then exit 6 with the code', async () => {
    const agent = await agentAnswering(503, 'UCXL-503-NOT_READY')
    const res = await runCli(['status'], env(agent.url))
    expect(res.code, res.stderr).toBe(6)
    expect(res.stderr).toMatch(/UCXL-503-NOT_READY: refused here/)
    expect(agent.hits).toHaveLength(4)
  })

  it('a store answered 503 quorum not reached may have run: sent once, exit 6', async () => {
    const agent = await agentAnswering(503, 'UCXL-503-QUORUM_NOT_REACHED')
    const res = await runCli(['put', ADDRESS, 'content'], env(agent.url))
    expect(res.code, res.stderr).toBe(6)
    expect(agent.hits).toEqual(['POST /v1/content Bearer cli-token'])
  })

  it('nothing listening: exit 5, CLI_UNREACHABLE', async () => {
    const agent = await agentAnswering(200)
    agent.server.close()
    await once(agent.server, 'close')
    const res = await runCli(['status', '--json'], env(agent.url))
    expect(res.code, res.stderr).toBe(5)
    expect(JSON.parse(res.stderr).error.code).toBe('CLI_UNREACHABLE')
    expect(JSON.parse(res.stderr).error.message).toMatch(/^cannot reach the agent at http:\/\/127\.0\.0\.1:/)
  })

  it('no answer within --timeout: exit 6, CLI_TIMEOUT', async () => {
    const agent = await agentAnswering(0)
    // --timeout is the program's option: before the command
    const res = await runCli(['--timeout', '500', 'status', '--json'], env(agent.url))
    expect(res.code, res.stderr).toBe(6)
    expect(JSON.parse(res.stderr).error).toEqual({
      code: 'CLI_TIMEOUT',
      message: `the agent at ${agent.url} did not answer within 500 ms`
    })
  })
})
