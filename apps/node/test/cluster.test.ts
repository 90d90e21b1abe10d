import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AgentProcess,
  dialAddress,
  fastEnv,
  makeTeam,
  parsePrometheus,
  runCli,
  startAgentProcess,
  stopAllAgents,
  type Team,
  waitFor
} from './helpers.js'
import { libraryCases } from './library-cases.js'

// Three agents as separate processes on 127.0.0.1, driven through the CLI and the HTTP API.
type Status = { network: { connectedPeers: number; dht: { routingTableSize: number } } }
const ADDRESS = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'
const CONTENT = 'Decision: use PostgreSQL for the order service'

describe('a 3-agent network', () => {
  let team: Team
  let writer: AgentProcess
  let architect: AgentProcess
  let devops: AgentProcess

  beforeAll(async () => {
    team = await makeTeam(['backend_developer', 'senior_architect', 'devops_engineer'])
    const env = (role: string, peers: string[]) =>
      fastEnv({
        CHORUS_ROLE: role,
        CHORUS_BOOTSTRAP_PEERS: peers.join(',')
      })
    writer = await startAgentProcess({
      name: 'backend_developer',
      dataDir: team.dataDir('backend_developer'),
      env: env('backend_developer', [])
    })
    const boot = [dialAddress(writer.info)]
    ;[architect, devops] = await Promise.all([
      startAgentProcess({
        name: 'senior_architect',
        dataDir: team.dataDir('senior_architect'),
        env: env('senior_architect', boot)
      }),
      startAgentProcess({
        name: 'devops_engineer',
        dataDir: team.dataDir('devops_engineer'),
        env: env('devops_engineer', boot)
      })
    ])
    // every agent connected to both others
    for (const a of [writer, architect, devops]) {
      const ok = await waitFor(async () => {
        // connected, and in the Kademlia routing table (identify done): puts reach both others
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

  // the library operations through the API and CLI, on these same agents
  libraryCases(() => ({ writer, architect, devops }))

  it('CLI put on one agent, CLI get on another', async () => {
    const put = await runCli(['put', ADDRESS, CONTENT, '--data-dir', writer.dataDir, '--json'])
    expect(put.code, put.stderr).toBe(0)
    const stored = JSON.parse(put.stdout) as { metadata: { version: number; creatorRole: string } }
    expect(stored.metadata.version).toBe(1)
    expect(stored.metadata.creatorRole).toBe('backend_developer')

    const get = await runCli(['get', ADDRESS, '--data-dir', architect.dataDir])
    expect(get.code, get.stderr).toBe(0)
    expect(get.stdout.trim()).toBe(CONTENT)

    const json = await runCli(['get', ADDRESS, '--data-dir', devops.dataDir, '--fresh', '--json'])
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout).content).toBe(CONTENT)
  })

  it('a missing address exits 3 and an invalid one exits 2', async () => {
    const missing = await runCli([
      'get',
      'ucxl://agent001:backend_developer@project123:task456/*^/nothing-here',
      '--data-dir',
      architect.dataDir
    ])
    expect(missing.code, missing.stderr).toBe(3)
    expect(missing.stderr).toMatch(/UCXL-404-NOT_FOUND/)
    const invalid = await runCli(['get', 'not-an-address', '--data-dir', architect.dataDir])
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toMatch(/UCXL-400-INVALID_ADDRESS/)
  })

  it('ls and search find the stored decision', async () => {
    const ls = await runCli(['ls', '--role', 'backend_developer', '--data-dir', writer.dataDir, '--json'])
    expect(ls.code, ls.stderr).toBe(0)
    const listed = JSON.parse(ls.stdout) as { items: Array<{ baseAddress: string }> }
    expect(listed.items.map((i) => i.baseAddress)).toContain(ADDRESS.replace('/*^/', '/'))

    const search = await runCli([
      'search',
      '--project',
      'project123',
      '--content-type',
      'text/plain',
      '--data-dir',
      writer.dataDir,
      '--json'
    ])
    expect(search.code, search.stderr).toBe(0)
    expect((JSON.parse(search.stdout) as { count: number }).count).toBeGreaterThanOrEqual(1)

    const none = await runCli([
      'search',
      '--project',
      'other-project',
      '--data-dir',
      writer.dataDir,
      '--json'
    ])
    expect((JSON.parse(none.stdout) as { count: number }).count).toBe(0)
  })

  it('status and peers', async () => {
    const status = await runCli(['status', '--data-dir', devops.dataDir, '--json'])
    expect(status.code, status.stderr).toBe(0)
    const s = JSON.parse(status.stdout) as {
      role: string
      peerId: string
      network: { connectedPeers: number }
    }
    expect(s.role).toBe('devops_engineer')
    expect(s.peerId).toBe(devops.info.peerId)
    expect(s.network.connectedPeers).toBeGreaterThanOrEqual(2)

    const peers = await runCli(['peers', '--data-dir', devops.dataDir, '--json'])
    expect(peers.code, peers.stderr).toBe(0)
    const ids = (JSON.parse(peers.stdout) as { peers: Array<{ id: string }> }).peers.map((p) => p.id)
    expect(ids).toEqual(expect.arrayContaining([writer.info.peerId, architect.info.peerId]))
    // roles come from the peers' own announcements (peer-info protocol / discovery)
    const roles = await waitFor(async () => {
      const r = await devops.api<{ peers: Array<{ id: string; role: string }> }>('GET', '/v1/peers')
      const role = r.body.peers.find((p) => p.id === writer.info.peerId)?.role
      return role === 'backend_developer' ? role : undefined
    }, 30_000)
    expect(roles).toBe('backend_developer')

    const human = await runCli(['status', '--data-dir', devops.dataDir])
    expect(human.stdout).toMatch(/role: devops_engineer/)
  })

  it('replication status and audit verification', async () => {
    const healthy = await waitFor(
      async () => {
        const r = await runCli(['replication', ADDRESS, '--data-dir', writer.dataDir, '--json'])
        return r.code === 0 && (JSON.parse(r.stdout) as { health: string }).health === 'healthy'
      },
      30_000,
      1000
    )
    expect(healthy).toBe(true)
    const audit = await runCli(['audit', 'verify', '--data-dir', writer.dataDir, '--json'])
    expect(audit.code, audit.stderr).toBe(0)
    expect((JSON.parse(audit.stdout) as { ok: boolean; entries: number }).ok).toBe(true)
  })

  it('manual hybrid backend switching is respected and reported', async () => {
    const mock = await runCli(['backend', 'mock', '--data-dir', architect.dataDir, '--json'])
    expect(mock.code, mock.stderr).toBe(0)
    expect(JSON.parse(mock.stdout)).toMatchObject({ mode: 'mock', activeBackend: 'mock' })
    // reads keep working from the local backend
    const get = await runCli(['get', ADDRESS, '--data-dir', architect.dataDir])
    expect(get.stdout.trim()).toBe(CONTENT)
    const auto = await runCli(['backend', 'auto', '--data-dir', architect.dataDir, '--json'])
    expect(JSON.parse(auto.stdout)).toMatchObject({ mode: 'auto' })
    const bad = await runCli(['backend', 'sideways', '--data-dir', architect.dataDir])
    expect(bad.code).toBe(2)
  })

  it('the API refuses requests without the token (401)', async () => {
    const res = await fetch(`${writer.info.url}/v1/status`)
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UCXL-401-UNAUTHORIZED')
    const wrong = await fetch(`${writer.info.url}/v1/status`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    const cli = await runCli(['status', '--agent-url', writer.info.url], { CHORUS_API_TOKEN: 'nope' })
    expect(cli.code).toBe(4)
    expect((await fetch(`${writer.info.url}/healthz`)).status).toBe(200)
  })

  it('a Host header naming another site is refused before the token (DNS rebinding); --token is refused', async () => {
    const port = Number(new URL(writer.info.url).port)
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/status', headers: { host } }, (res) => {
          let body = ''
          res.on('data', (d) => {
            body += d
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
    const rebound = await get(`rebound.example:${port}`)
    expect(rebound.status).toBe(421)
    expect(JSON.parse(rebound.body).error.code).toBe('UCXL-421-HOST_NOT_ALLOWED')
    expect(rebound.body).not.toContain('rebound.example')
    // the agent's own names still reach the token check
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await get(host)).status).toBe(401)
    }
    const flagged = await runCli(['status', '--data-dir', writer.dataDir, '--token', 'whatever'])
    expect(flagged.code).toBe(2)
    expect(flagged.stderr).toContain('CHORUS_API_TOKEN')
  })

  it('an oversized body gets 413', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024)
    const res = await writer.api<{ error: { code: string } }>('POST', '/v1/content', {
      address: ADDRESS,
      content: big
    })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('UCXL-413-CONTENT_TOO_LARGE')
  })

  it('an invalid address gets 400 UCXL-400-INVALID_ADDRESS', async () => {
    const put = await writer.api<{ error: { code: string } }>('POST', '/v1/content', {
      address: 'ucxl://bad address',
      content: 'x'
    })
    expect(put.status).toBe(400)
    expect(put.body.error.code).toBe('UCXL-400-INVALID_ADDRESS')
    const get = await writer.api<{ error: { code: string } }>(
      'GET',
      `/v1/content?address=${encodeURIComponent('ucxl://a:b@c/')}`
    )
    expect(get.status).toBe(400)
    expect(get.body.error.code).toBe('UCXL-400-INVALID_ADDRESS')
    const schema = await writer.api<{ error: { code: string } }>('POST', '/v1/content', {
      address: ADDRESS,
      bogus: 1
    })
    expect(schema.status).toBe(400)
  })

  it('/metrics parses as Prometheus text with storage, replication, hybrid, dht, reputation and process metrics', async () => {
    const res = await fetch(`${writer.info.url}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/plain/)
    const samples = parsePrometheus(await res.text())
    const names = [...samples.keys()]
    for (const prefix of [
      'chorus_storage_',
      'chorus_replication_',
      'chorus_hybrid_',
      'chorus_dht_',
      'chorus_reputation_',
      'chorus_node_process_',
      'chorus_api_requests_total'
    ]) {
      expect(
        names.some((n) => n.startsWith(prefix)),
        prefix
      ).toBe(true)
    }
    expect(samples.get('chorus_storage_stored_items')?.[0]).toBeGreaterThanOrEqual(1)
    // An honest cluster: nobody penalised, nobody banned.
    expect(samples.get('chorus_reputation_banned_now')?.[0]).toBe(0)
    expect(samples.get('chorus_reputation_penalties_invalid_record')?.[0]).toBe(0)
  })
})
