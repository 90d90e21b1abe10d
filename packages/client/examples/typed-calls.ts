// The client against a stand-in for an agent on a local port (a real agent answers the same: the
// tests of apps/node run this client against real agent processes). It shows the bearer token,
// typed answers, a store sent again because the agent refused it before it ran, and a refusal
// as a typed error with its UCXL code.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AgentAPIError, createChorusClient } from '@chorus/client'

let stores = 0
const agent = createServer((req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  assert.equal(req.headers.authorization, 'Bearer my-token')
  req.resume()
  if (req.method === 'POST' && req.url === '/v1/content') {
    // still joining the network: refused before anything ran, so the client may send it again
    if (++stores === 1) return send(503, { error: { code: 'UCXL-503-NOT_READY', message: 'not ready yet' } })
    return send(201, {
      address: 'ucxl://agent001:backend_developer@demo:task/*^/note',
      metadata: {
        address: 'ucxl://agent001:backend_developer@demo:task/*~1/note',
        version: 1,
        creatorRole: 'backend_developer',
        contentType: 'text/plain',
        timestamp: Date.now(),
        size: 5
      }
    })
  }
  send(403, { error: { code: 'UCXL-403-ACCESS_DENIED', message: 'no role of this agent may read it' } })
})
agent.listen(0, '127.0.0.1')
await once(agent, 'listening')

const client = createChorusClient({
  baseUrl: `http://127.0.0.1:${(agent.address() as AddressInfo).port}`,
  token: 'my-token', // an agent's is in <dataDir>/api-token
  timeoutMs: 10_000
})

const stored = await client.store({
  address: 'ucxl://agent001:backend_developer@demo:task/*^/note',
  content: 'hello'
})
assert.equal(stored.metadata.version, 1)
assert.equal(stores, 2) // the first try was refused before it ran, the second stored

try {
  await client.retrieve(
    'ucxl://agent002:senior_architect@demo:task/*^/plan',
    {},
    { signal: AbortSignal.timeout(5000) }
  )
  assert.fail('expected a refusal')
} catch (err) {
  assert.ok(AgentAPIError.isInstance(err))
  assert.equal(err.code, 'UCXL-403-ACCESS_DENIED')
  assert.equal(err.status, 403)
}
agent.close()
console.log('ok')
