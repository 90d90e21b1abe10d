/**
 * The library operations through the agent's API and CLI, on the running agents of
 * `cluster.test.ts` (registered inside its describe, so no more agent processes start): decisions
 * validated on store and searched by their fields, content types with `+` and `/`, every version
 * of an address, `^^N` from a version, search by pattern, announce, discover, rated providers,
 * peers by role and by capability, and the typed refusals of bad input.
 */
import { expect, it } from 'vitest'
import { type AgentProcess, runCli, waitFor } from './helpers.js'

export interface Cluster {
  writer: AgentProcess
  architect: AgentProcess
  devops: AgentProcess
}

const DECISION_ADDRESS = 'ucxl://agent001:backend_developer@project123:task777/*^/decision'
const VERSIONED = 'ucxl://agent001:backend_developer@project123:task777/*^/notes'
const decision = {
  task: 'pick the order store',
  decision: 'Use PostgreSQL with logical replication',
  rationale: 'Strong consistency for orders',
  alternatives: [{ option: 'MongoDB', reasonRejected: 'weaker transactions' }],
  author: { agent: 'agent001', role: 'backend_developer' },
  timestamp: '2026-12-06T10:00:00Z'
}
const enc = encodeURIComponent
type Items = { count: number; items: Array<{ baseAddress: string; version: number; contentType: string }> }
type Peers = { count: number; peers: Array<{ id: string; role: string; capabilities: string[] }> }

const cli = async (a: AgentProcess, args: string[]) => {
  const r = await runCli([...args, '--data-dir', a.dataDir, '--json'])
  return { ...r, json: () => JSON.parse(r.stdout) }
}

export function libraryCases(cluster: () => Cluster): void {
  it('a decision is validated on store (400 naming the field) and found by its task and author', async () => {
    const { writer, architect } = cluster()
    const bad = await writer.api<{ error: { code: string; field: string } }>('POST', '/v1/content', {
      address: DECISION_ADDRESS,
      content: JSON.stringify({ ...decision, rationale: undefined }),
      contentType: 'decision'
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({ code: 'UCXL-400-INVALID_DECISION', field: 'rationale' })
    const text = await cli(writer, ['put', DECISION_ADDRESS, 'Decision: plain words', '-t', 'decision'])
    expect(text.code).toBe(2)
    expect(text.stderr).toMatch(/UCXL-400-INVALID_DECISION/)

    const put = await cli(writer, ['put', DECISION_ADDRESS, JSON.stringify(decision), '-t', 'decision'])
    expect(put.code, put.stderr).toBe(0)
    expect(put.json().metadata.contentType).toBe('decision')
    const byTask = await cli(writer, ['search', '--decision-task', decision.task])
    expect(byTask.code, byTask.stderr).toBe(0)
    expect((byTask.json() as Items).items.map((i) => i.baseAddress)).toEqual([
      DECISION_ADDRESS.replace('/*^/', '/')
    ])
    const other = await cli(writer, ['search', '--decision-agent', 'agent002'])
    expect((other.json() as Items).count).toBe(0)
    // a reader can search it by its fields once it has opened it
    expect((await cli(architect, ['get', DECISION_ADDRESS])).code).toBe(0)
    const read = await cli(architect, [
      'search',
      '--decision-role',
      'backend_developer',
      '--decision-task',
      decision.task
    ])
    expect((read.json() as Items).count).toBe(1)
  })

  it('stores the content types storage accepts (+ and /), refuses others, plain text by default', async () => {
    const { writer } = cluster()
    const a = 'ucxl://agent001:backend_developer@project123:task777/*^/doc'
    const ld = await writer.api<{ metadata: { contentType: string } }>('POST', '/v1/content', {
      address: a,
      content: '{"@context":"https://schema.org"}',
      contentType: 'application/ld+json'
    })
    expect(ld.status).toBe(201)
    expect(ld.body.metadata.contentType).toBe('application/ld+json')
    const plain = await cli(writer, ['put', a, 'just words'])
    expect(plain.json().metadata.contentType).toBe('text/plain')
    const bad = await writer.api<{ error: { code: string } }>('POST', '/v1/content', {
      address: a,
      content: 'x',
      contentType: 'bad type!'
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('UCXL-400-BAD_REQUEST')
  })

  it('lists every version of an address, reads ^^N from a given version, searches by pattern', async () => {
    const { writer, architect } = cluster()
    for (const n of [1, 2, 3]) {
      const put = await cli(writer, ['put', VERSIONED, `notes ${n}`])
      expect(put.code, put.stderr).toBe(0)
    }
    const versions = await cli(writer, ['versions', VERSIONED])
    expect(versions.code, versions.stderr).toBe(0)
    expect((versions.json() as Items).items.map((i) => i.version)).toEqual([1, 2, 3])
    const forward = VERSIONED.replace('/*^/', '/^^1/')
    const fromOne = await runCli(['get', forward, '--data-dir', architect.dataDir])
    expect(fromOne.stdout.trim(), fromOne.stderr).toBe('notes 2')
    const fromTwo = await runCli(['get', forward, '--from', '2', '--data-dir', architect.dataDir])
    expect(fromTwo.stdout.trim(), fromTwo.stderr).toBe('notes 3')
    const pattern = await cli(writer, ['search', '--address', 'ucxl://agent001:any@project123:task777/**'])
    const found = (pattern.json() as Items).items.map((i) => i.baseAddress)
    expect(found).toEqual(
      expect.arrayContaining([VERSIONED.replace('/*^/', '/'), DECISION_ADDRESS.replace('/*^/', '/')])
    )
    expect(found.every((b) => b.includes('@project123:task777/'))).toBe(true)
    const all = await cli(writer, ['search', '--address', VERSIONED.replace('/*^/', '/'), '--all-versions'])
    expect((all.json() as Items).count).toBe(3)
  })

  it('announces content, discovers its peers and rates its providers', async () => {
    const { writer, architect } = cluster()
    const announced = await cli(writer, ['announce', VERSIONED])
    expect(announced.code, announced.stderr).toBe(0)
    expect(announced.json().count).toBeGreaterThanOrEqual(1)
    const discovered = await waitFor(async () => {
      const r = await cli(architect, ['discover', VERSIONED])
      return (r.json().peers as string[]).includes(writer.info.peerId) ? r : undefined
    }, 30_000)
    expect(discovered, 'the architect finds the writer among the providers').toBeTruthy()
    const providers = await cli(architect, ['providers', VERSIONED, '-n', '5'])
    expect(providers.code, providers.stderr).toBe(0)
    const list = providers.json().providers as Array<{ peerId: string; quality: number; distance: number }>
    const mine = list.find((p) => p.peerId === writer.info.peerId)
    expect(mine).toBeDefined()
    expect(mine!.quality).toBeGreaterThanOrEqual(0)
    expect(mine!.quality).toBeLessThanOrEqual(1)
    expect(mine!.distance).toBeGreaterThanOrEqual(0)
    expect(mine!.distance).toBeLessThanOrEqual(256)
  })

  it('finds peers by role and by capability', async () => {
    const { writer, architect, devops } = cluster()
    const byRole = await waitFor(async () => {
      const r = (await cli(writer, ['peers', '--role', 'senior_architect'])).json() as Peers
      return r.peers.some((p) => p.id === architect.info.peerId) ? r : undefined
    }, 30_000)
    expect(byRole, 'the writer finds the architect by its role').toBeTruthy()
    expect(byRole!.peers.every((p) => p.role === 'senior_architect')).toBe(true)
    const byCapability = await waitFor(async () => {
      const r = (await cli(devops, ['peers', '--capability', 'ucxl-storage'])).json() as Peers
      const ids = r.peers.map((p) => p.id)
      return ids.includes(writer.info.peerId) && ids.includes(architect.info.peerId) ? r : undefined
    }, 30_000)
    expect(byCapability, 'devops finds both others by their capability').toBeTruthy()
    const none = (await cli(writer, ['peers', '--role', 'nobody_has_this'])).json() as Peers
    expect(none.count).toBe(0)
  })

  it('refuses bad input with typed errors', async () => {
    const { writer } = cluster()
    const status = async (path: string, method = 'GET', body?: unknown) =>
      (await writer.api<{ error: { code: string } }>(method, path, body)).body.error?.code
    expect(await status('/v1/peers/role/bad%20name')).toBe('UCXL-400-BAD_REQUEST')
    expect(await status(`/v1/versions?address=${enc('ucxl://any:any@project123:any/x')}`)).toBe(
      'UCXL-400-INVALID_ADDRESS'
    )
    expect(await status(`/v1/content?address=${enc(VERSIONED)}&from=0`)).toBe('UCXL-400-BAD_REQUEST')
    expect(await status('/v1/content/providers?address=not-an-address')).toBe('UCXL-400-INVALID_ADDRESS')
    expect(await status('/v1/content/announce', 'POST', { address: VERSIONED, extra: 1 })).toBe(
      'UCXL-400-BAD_REQUEST'
    )
    const both = await runCli(['peers', '--role', 'a', '--capability', 'b', '--data-dir', writer.dataDir])
    expect(both.code).toBe(2)
  })
}
