// One agent in this process on 127.0.0.1 with a temporary data directory: store a decision and
// read it back through its HTTP API, then stop.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgent, createAPIServer, createLogger, loadConfig } from '@chorus/node'

const dataDir = mkdtempSync(join(tmpdir(), 'chorus-example-'))
// defaults < CHORUS_* environment: loopback, ephemeral ports, generated keys, no peers, and a
// team of its own whose certificate names agent001 (it may write agent001's addresses only)
const { config } = loadConfig({
  env: { CHORUS_DATA_DIR: dataDir, CHORUS_LOG_LEVEL: 'warn', CHORUS_AGENT_ID: 'agent001' }
})
const logger = createLogger(config.log.level, { role: config.role })
const agent = await createAgent(config, logger)
const token = 'example-token'
const api = createAPIServer({ service: agent, token, logger })

try {
  await agent.start()
  const url = await api.listen('127.0.0.1', 0)
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const address = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'

  const stored = await fetch(`${url}/v1/content`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ address, content: 'Use PostgreSQL' })
  })
  assert.equal(stored.status, 201)

  const read = await fetch(`${url}/v1/content?address=${encodeURIComponent(address)}`, { headers })
  const body = (await read.json()) as { content: string; metadata: { version: number } }
  assert.equal(body.content, 'Use PostgreSQL')
  assert.equal(body.metadata.version, 1)

  // without the token: 401 with a UCXL code
  const refused = await fetch(`${url}/v1/status`)
  assert.equal(refused.status, 401)
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'UCXL-401-UNAUTHORIZED')
  console.log('stored and read back over HTTP:', body.content)
} finally {
  await api.close()
  await agent.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
