import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { keyIdOf } from '@chorus/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AgentProcess,
  dialAddress,
  fastEnv,
  makeTeam,
  runCli,
  startAgentProcess,
  stopAllAgents,
  type Team,
  waitFor
} from './helpers.js'

// Agents as processes: the signed audit log through the API and the CLI (what a retrieve
// records, tampering found, logging switched off), and a role key removed on SIGHUP taking the
// plaintext it opened out of the cache.
const ADDRESS = 'ucxl://agent001:backend_developer@audit:keys/*^/decision'
const CONTENT = 'a decision the architect reads'

type Entry = Record<string, unknown>
const entriesOf = (a: AgentProcess): Entry[] =>
  readFileSync(join(a.dataDir, 'storage', 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Entry)

async function verify(a: AgentProcess): Promise<{ code: number | null; body: Entry }> {
  const res = await runCli(['audit', 'verify', '--data-dir', a.dataDir, '--json'])
  return { code: res.code, body: JSON.parse(res.stdout || '{}') as Entry }
}

describe('audit log and role keys of agent processes', () => {
  let team: Team
  let writer: AgentProcess
  let reader: AgentProcess

  beforeAll(async () => {
    // the writer is agent001, the agent of the addresses below
    team = await makeTeam(['backend_developer', 'senior_architect'], ['backend_developer', 'r'])
    writer = await startAgentProcess({
      name: 'w',
      dataDir: team.dataDir('backend_developer'),
      env: fastEnv({ CHORUS_ROLE: 'backend_developer' })
    })
    reader = await startAgentProcess({
      name: 'r',
      dataDir: team.dataDir('r'),
      env: fastEnv({ CHORUS_ROLE: 'senior_architect', CHORUS_BOOTSTRAP_PEERS: dialAddress(writer.info) })
    })
    const put = await writer.api('POST', '/v1/content', { address: ADDRESS, content: CONTENT })
    expect(put.status, JSON.stringify(put.body)).toBe(201)
  }, 180_000)

  afterAll(async () => {
    await stopAllAgents()
    team?.cleanup()
  }, 60_000)

  const get = (a: AgentProcess, fresh = false) =>
    a.api<{ content: string; metadata: { source: string } }>(
      'GET',
      `/v1/content?address=${encodeURIComponent(ADDRESS)}${fresh ? '&fresh=true' : ''}`
    )

  it("records the reader's role and key; the CLI verifies the log, and finds an edit", async () => {
    const first = await waitFor(async () => {
      const r = await get(reader, true)
      return r.status === 200 ? r : undefined
    }, 60_000)
    expect(first?.body.content).toBe(CONTENT)
    expect((await get(reader)).body.metadata.source).toBe('cache')
    expect(await verify(reader)).toMatchObject({ code: 0, body: { ok: true } })
    const keyFile = readFileSync(join(reader.dataDir, 'keys', 'senior_architect.key'), 'utf8')
    const keyId = keyIdOf(/# public key: (age1\w+)/.exec(keyFile)?.[1] ?? '')
    const retrieves = entriesOf(reader).filter((e) => e.op === 'retrieve' && e.success === true)
    expect(retrieves.length).toBeGreaterThanOrEqual(2)
    for (const e of retrieves) {
      // the key in its keys directory opened it
      expect(e).toMatchObject({ role: 'senior_architect', keyId })
    }
    expect(readFileSync(join(reader.dataDir, 'storage', 'audit.log'), 'utf8')).not.toContain(CONTENT)

    // the running writer's log, edited: the API and the CLI report it (exit 1)
    const path = join(writer.dataDir, 'storage', 'audit.log')
    const original = readFileSync(path, 'utf8')
    writeFileSync(path, original.replace('"success":true', '"success":false'))
    const broken = await verify(writer)
    expect(broken.code).toBe(1)
    expect(broken.body).toMatchObject({
      ok: false,
      line: expect.any(Number),
      reason: expect.stringMatching(/edited/)
    })
    // truncated to nothing while it runs, and its database head removed: the running node
    // remembers what it wrote
    writeFileSync(path, '')
    const db = new DatabaseSync(join(writer.dataDir, 'storage', 'storage-index.sqlite'))
    db.exec('DELETE FROM audit_head')
    db.close()
    expect((await verify(writer)).body).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/running node/)
    })
  }, 120_000)

  it('a role key removed from the keys directory and SIGHUP: its cached plaintext is dropped, the read refused', async () => {
    expect((await get(reader)).body.metadata.source).toBe('cache')
    unlinkSync(join(reader.dataDir, 'keys', 'senior_architect.key'))
    reader.child.kill('SIGHUP')
    const dropped = await waitFor(
      async () =>
        readFileSync(reader.logFile, 'utf8').includes('cached content of removed role keys dropped'),
      30_000
    )
    expect(dropped).toBe(true)
    const refused = await get(reader)
    expect(refused.status).toBe(403)
    expect(JSON.stringify(refused.body)).not.toContain(CONTENT)
    expect(reader.child.exitCode).toBeNull()
  }, 60_000)

  it('with storage.auditLogging off nothing is appended, and verify reports it off', async () => {
    const quiet = await startAgentProcess({
      name: 'quiet',
      dataDir: join(team.root, 'quiet'),
      env: fastEnv({
        CHORUS_ROLE: 'backend_developer',
        CHORUS_AGENT_ID: 'agent001',
        CHORUS_STORAGE_AUDIT_LOGGING: 'false'
      })
    })
    const put = await quiet.api('POST', '/v1/content', {
      address: 'ucxl://agent001:backend_developer@audit:quiet/*^/x',
      content: 'not audited'
    })
    expect(put.status, JSON.stringify(put.body)).toBe(201)
    expect(existsSync(join(quiet.dataDir, 'storage', 'audit.log'))).toBe(false)
    const res = await verify(quiet)
    expect(res.code).toBe(1)
    expect(res.body).toMatchObject({ ok: false, disabled: true, reason: expect.stringMatching(/off/) })
    await quiet.stop()
  }, 120_000)
})
