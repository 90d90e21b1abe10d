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

// Three agents as separate processes on 127.0.0.1: deletion through the HTTP API and the CLI.
type Status = { network: { connectedPeers: number; dht: { routingTableSize: number } } }
type ErrorBody = { error: { code: string; message: string; version?: number } }
type Item = { baseAddress: string; version: number }
const at = (path: string, temporal = '*^') =>
  `ucxl://agent001:backend_developer@project123:task456/${temporal}/${path}`
const q = (address: string) => encodeURIComponent(address)

describe('deletion on a 3-agent network (processes)', () => {
  let team: Team
  let writer: AgentProcess
  let architect: AgentProcess
  let devops: AgentProcess

  const put = async (a: AgentProcess, address: string, content: string) => {
    const res = await a.api<{ metadata: { version: number } }>('POST', '/v1/content', { address, content })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    return res.body.metadata.version
  }
  const get = (a: AgentProcess, address: string) =>
    a.api<{ content: string; metadata: { version: number } } & ErrorBody>(
      'GET',
      `/v1/content?address=${q(address)}&fresh=true`
    )
  const listed = async (a: AgentProcess) =>
    (await a.api<{ items: Item[] }>('GET', '/v1/search?agent=agent001&limit=1000')).body.items.map(
      (m) => m.baseAddress
    )

  beforeAll(async () => {
    team = await makeTeam(['backend_developer', 'senior_architect', 'devops_engineer'])
    const env = (role: string, peers: string[]) =>
      fastEnv({ CHORUS_ROLE: role, CHORUS_BOOTSTRAP_PEERS: peers.join(',') })
    writer = await startAgentProcess({
      name: 'backend_developer',
      dataDir: team.dataDir('backend_developer'),
      env: env('backend_developer', [])
    })
    const boot = [dialAddress(writer.info)]
    const start = (role: string) =>
      startAgentProcess({ name: role, dataDir: team.dataDir(role), env: env(role, boot) })
    ;[architect, devops] = await Promise.all([start('senior_architect'), start('devops_engineer')])
    for (const a of [writer, architect, devops]) {
      const ok = await waitFor(async () => {
        const n = (await a.api<Status>('GET', '/v1/status')).body.network
        return n.connectedPeers >= 2 && n.dht.routingTableSize >= 2
      }, 60_000)
      expect(ok, `${a.name} found its peers`).toBe(true)
    }
  }, 240_000)

  afterAll(async () => {
    await Promise.all([writer, architect, devops].filter(Boolean).map((a) => a.stop()))
    await stopAllAgents()
    team?.cleanup()
  }, 60_000)

  it('DELETE /v1/content: 200 with the tombstone version, then 410 on every agent, *~N-1 readable, gone from search; a later write is N+1', async () => {
    const address = at('api-delete')
    await put(writer, address, 'v1')
    await put(writer, address, 'v2')
    expect((await get(architect, address)).body.content).toBe('v2')
    const base = 'ucxl://agent001:backend_developer@project123:task456/api-delete'
    expect(await listed(architect)).toContain(base)

    const del = await writer.api('DELETE', `/v1/content?address=${q(address)}`)
    expect(del.status, JSON.stringify(del.body)).toBe(200)
    expect(del.body).toMatchObject({ address: base, version: 3, deleted: true })

    for (const a of [writer, architect, devops]) {
      const res = await get(a, address)
      expect(res.status, `${a.name}: ${JSON.stringify(res.body)}`).toBe(410)
      expect(res.body.error).toMatchObject({ code: 'UCXL-410-DELETED', version: 3 })
    }
    const earlier = await get(devops, at('api-delete', '*~2'))
    expect([earlier.status, earlier.body.content]).toEqual([200, 'v2'])
    expect(await listed(architect)).not.toContain(base)
    expect(await listed(writer)).not.toContain(base)

    // nothing there any more: 404; bad input: 400
    const again = await writer.api<ErrorBody>('DELETE', `/v1/content?address=${q(address)}`)
    expect([again.status, again.body.error.code]).toEqual([404, 'UCXL-404-NOT_FOUND'])
    const bad = await writer.api<ErrorBody>('DELETE', '/v1/content?address=not-an-address')
    expect(bad.status).toBe(400)
    const extra = await writer.api<ErrorBody>('DELETE', `/v1/content?address=${q(address)}&force=1`)
    expect(extra.status).toBe(400)

    expect(await put(writer, address, 'v4')).toBe(4)
    const back = await get(architect, address)
    expect([back.status, back.body.content, back.body.metadata.version]).toEqual([200, 'v4', 4])
    expect(await listed(architect)).toContain(base)
  })

  it('chorus-node rm: exit 0 and JSON, 3 when nothing is there; get exits 3 after; --purge makes earlier versions 410', async () => {
    const address = at('cli-delete')
    await put(writer, address, 'only version')
    const rm = await runCli(['rm', address, '--data-dir', writer.dataDir, '--json'])
    expect(rm.code, rm.stderr).toBe(0)
    expect(JSON.parse(rm.stdout)).toMatchObject({ version: 2, deleted: true, purgeVersions: false })
    const human = await runCli(['rm', address, '--data-dir', writer.dataDir])
    expect(human.code, human.stderr).toBe(3)
    expect(human.stderr).toMatch(/UCXL-404-NOT_FOUND/)
    const gone = await runCli(['get', address, '--data-dir', devops.dataDir])
    expect(gone.code).toBe(3)
    expect(gone.stderr).toMatch(/UCXL-410-DELETED/)

    const purged = at('cli-purge')
    await put(writer, purged, 'p1')
    await put(writer, purged, 'p2')
    expect((await get(architect, at('cli-purge', '*~1'))).body.content).toBe('p1')
    const rmPurge = await runCli(['rm', purged, '--purge', '--data-dir', writer.dataDir])
    expect(rmPurge.code, rmPurge.stderr).toBe(0)
    expect(rmPurge.stdout).toMatch(/deleted .* at version 3 \(earlier versions purged\)/)
    for (const a of [writer, architect, devops]) {
      for (const v of [1, 2]) {
        const res = await get(a, at('cli-purge', `*~${v}`))
        expect(res.status, `${a.name} *~${v}: ${JSON.stringify(res.body)}`).toBe(410)
      }
    }
  })

  it('a member whose role may not write the address gets 403 (CLI exit 4) and nothing changes', async () => {
    const address = at('not-theirs')
    await put(writer, address, 'stays')
    const res = await architect.api<ErrorBody>('DELETE', `/v1/content?address=${q(address)}&purge=true`)
    expect(res.status, JSON.stringify(res.body)).toBe(403)
    expect(res.body.error.code).toBe('UCXL-403-ACCESS_DENIED')
    const cli = await runCli(['rm', address, '--data-dir', devops.dataDir])
    expect(cli.code, cli.stderr).toBe(4)
    for (const a of [writer, architect, devops]) {
      const r = await get(a, address)
      expect([r.status, r.body.content, r.body.metadata?.version]).toEqual([200, 'stays', 1])
    }
    // without the token: 401
    const anon = await fetch(`${writer.info.url}/v1/content?address=${q(address)}`, { method: 'DELETE' })
    expect(anon.status).toBe(401)
  })
})
