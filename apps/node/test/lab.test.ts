/**
 * Agents in the network lab (@chorus/netlab): 12 agent processes, each in a network namespace of
 * its own, on three sites, two of them behind NAT routers. Needs root, `ip` and `iptables` (CI
 * runs as root; ./dev.sh test installs iptables); skipped with the reason otherwise.
 *
 * - the NATed agents find themselves behind NAT (DHT client, a reservation on a member relay) and
 *   store and read through the team;
 * - a public agent reaches a NATed one over the relay first, then directly after hole punching
 *   (DCUtR): both counted by the agents;
 * - the home site partitioned for 30 s while both sides write; healed, every acknowledged write is
 *   readable from every agent;
 * - 2 % random loss on every agent's packets, every operation still correct.
 */

import { createLab, type Lab, labUnavailableReason } from '@chorus/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeTeam, sleep, type Team, waitFor } from './helpers.js'
import { type LabAgent, type LabStatus, startLabAgent } from './lab-agents.js'

const why = labUnavailableReason()
if (why !== undefined) console.warn(`skipping the lab tests: ${why}`)

const ROLE = 'backend_developer'
const SITES = {
  office: ['o1', 'o2', 'o3', 'o4', 'o5', 'o6'],
  home: ['h1', 'h2', 'h3'],
  branch: ['b1', 'b2', 'b3']
}
const NAMES = [...SITES.office, ...SITES.home, ...SITES.branch]
const addressOf = (writer: string, key: string) => `ucxl://${writer}:${ROLE}@lab:run/*^/${key}`

// as root (CI) a missing tool is a failure, not a skip: the lab is what these tests are for
const asRoot = process.getuid?.() === 0
it.runIf(asRoot && why !== undefined)('the lab can run here (root)', () => {
  expect(why).toBeUndefined()
})

describe.skipIf(why !== undefined)('agents in a network lab of three sites, two behind NAT', () => {
  let lab: Lab
  let team: Team
  const agents = new Map<string, LabAgent>()
  const agent = (name: string) => agents.get(name) as LabAgent
  const status = async (name: string) => (await agent(name).api<LabStatus>('GET', '/v1/status')).body.network

  async function store(writer: string, key: string, content: string): Promise<boolean> {
    const res = await agent(writer)
      .api<{ error?: { code?: string } }>('POST', '/v1/content', { address: addressOf(writer, key), content })
      .catch((err: unknown) => ({ status: 0, body: { error: { code: String(err) } } }))
    // a refusal's code says why (quorum, time-out, access) when a test fails on it
    if (res.status !== 201)
      console.warn(`${writer} store ${key}: HTTP ${res.status} ${res.body?.error?.code ?? ''}`)
    return res.status === 201
  }

  async function read(reader: string, writer: string, key: string): Promise<string | undefined> {
    const res = await agent(reader)
      .api<{ content?: string }>('GET', `/v1/content?address=${encodeURIComponent(addressOf(writer, key))}`)
      .catch(() => ({ status: 0, body: {} as { content?: string } }))
    return res.status === 200 ? res.body.content : undefined
  }

  /** The open connections of `from` to `to` (none when they are not connected). */
  async function connectionsTo(from: string, to: string): Promise<Array<{ relayed: boolean }>> {
    const { peers } = (
      await agent(from).api<{ peers: Array<{ id: string; connections?: Array<{ relayed: boolean }> }> }>(
        'GET',
        '/v1/peers'
      )
    ).body
    return peers.find((p) => p.id === agent(to).peerId)?.connections ?? []
  }

  /** Every reader reads every write (retrying until `timeoutMs`); the pairs that never read it right. */
  async function unreadable(
    writes: Array<{ writer: string; key: string; content: string }>,
    readers: string[],
    timeoutMs: number
  ): Promise<string[]> {
    // every pair at once, each retried every 3 s: the whole check is bounded by `timeoutMs`
    const missing = await Promise.all(
      readers.flatMap((reader) =>
        writes.map(async (w) => {
          const ok = await waitFor(
            async () => (await read(reader, w.writer, w.key)) === w.content,
            timeoutMs,
            3_000
          )
          return ok ? undefined : `${reader} cannot read ${w.writer}/${w.key}`
        })
      )
    )
    return missing.filter((m): m is string => m !== undefined)
  }

  beforeAll(async () => {
    lab = await createLab()
    for (const [site, nodes] of Object.entries(SITES)) {
      await lab.addSite(site, { nat: site !== 'office' })
      for (const n of nodes) await lab.addNode(site, n)
    }
    team = await makeTeam(
      NAMES.map(() => ROLE),
      NAMES
    )
    const start = (name: string, bootstrap: string[]) =>
      startLabAgent(lab, name, {
        dataDir: team.dataDir(name),
        role: ROLE,
        bootstrap,
        env: { CHORUS_CAPABILITIES: `ucxl-storage,lab-${name}` }
      })
    const first = await start('o1', [])
    agents.set('o1', first)
    // the others in small batches: a dozen agents starting at once starve 2 cores
    const rest = NAMES.slice(1)
    for (let i = 0; i < rest.length; i += 4) {
      const batch = await Promise.all(rest.slice(i, i + 4).map((n) => start(n, [first.dialAddress])))
      for (const a of batch) agents.set(a.name, a)
    }
  }, 420_000)

  afterAll(async () => {
    await lab?.destroy()
    team?.cleanup()
  }, 60_000)

  it('NATed agents are DHT clients with a relay reservation; public ones are servers', async () => {
    for (const n of [...SITES.home, ...SITES.branch]) {
      const ok = await waitFor(async () => {
        const r = (await status(n)).dht
        return (
          r.mode === 'client' && r.reachability?.status === 'private' && r.reachability.relayAddresses > 0
        )
      }, 90_000)
      expect(ok, `${n} is a client behind NAT with a relay reservation`).toBe(true)
    }
    for (const n of SITES.office) expect((await status(n)).dht.mode, `${n} is a DHT server`).toBe('server')
    let reservations = 0
    for (const n of SITES.office) reservations += (await status(n)).dht.reachability?.relayReservations ?? 0
    expect(reservations).toBeGreaterThanOrEqual(SITES.home.length + SITES.branch.length)
  }, 200_000)

  it('NATed agents store and read through the team', async () => {
    const writes = [
      { writer: 'h1', key: 'nat-1', content: 'from home' },
      { writer: 'b1', key: 'nat-2', content: 'from the branch' },
      { writer: 'o2', key: 'nat-3', content: 'from the office' }
    ]
    for (const w of writes) expect(await store(w.writer, w.key, w.content), `${w.writer} stores`).toBe(true)
    expect(await unreadable(writes, ['h2', 'b3', 'o6', 'h1', 'b1'], 90_000)).toEqual([])
  }, 240_000)

  it('a public agent reaches a NATed one over the relay first, directly after hole punching', async () => {
    const nated = 'h2'
    const relays = (await status(nated)).dht.reachability?.relays ?? []
    // a public agent that is not the NATed agent's relay
    const publicAgent = SITES.office.find((n) => !relays.includes(agent(n).peerId)) as string
    const before = (await status(nated)).dht.reachability!
    // no direct path between the two: once their direct connection is gone, only the relay is left.
    // Discovery asks every peer for its info each round, so a relayed connection may replace the
    // direct one at once: what must go is the direct one.
    await lab.partition([nated], [publicAgent])
    const cut = await waitFor(
      async () => (await connectionsTo(publicAgent, nated)).every((c) => c.relayed),
      90_000
    )
    expect(cut, 'the cut direct connection is dropped').toBe(true)
    const relayed = await waitFor(
      async () => {
        await agent(publicAgent).api('GET', `/v1/peers/capability/lab-${nated}`)
        return (await connectionsTo(publicAgent, nated)).some((c) => c.relayed)
      },
      90_000,
      2_000
    )
    await lab.heal()
    expect(relayed, 'reached over the relay').toBe(true)
    // DCUtR runs when a relayed connection opens. The hole punch of the one opened during the cut
    // may still succeed after healing (its retries); if it gave up, the relay ends that connection
    // at its duration limit (2 min) and the next one, opened with the path healed, is upgraded.
    const direct = await waitFor(
      async () => {
        await agent(publicAgent).api('GET', `/v1/peers/capability/lab-${nated}`)
        return (
          (await connectionsTo(publicAgent, nated)).some((c) => !c.relayed) &&
          (await status(nated)).dht.reachability!.directUpgrades > before.directUpgrades
        )
      },
      170_000,
      2_000
    )
    const after = (await status(nated)).dht.reachability!
    console.info(
      `relay and hole punching (${nated}): relayed ${after.relayedConnections - before.relayedConnections}, ` +
        `upgraded to direct ${after.directUpgrades - before.directUpgrades}`
    )
    expect(direct, 'upgraded to a direct connection').toBe(true)
  }, 420_000)

  // A write acknowledged inside the NATed site has its copies on DHT clients only: replication
  // counts no reachable replica there and pushes it to the servers once one connects again.
  it('a site partitioned for 30 s while both sides write: every acknowledged write readable everywhere after healing', async () => {
    const inside = SITES.home
    const outside = [...SITES.office, ...SITES.branch]
    await lab.partition(inside, outside)
    const acknowledged: Array<{ writer: string; key: string; content: string }> = []
    const writers = ['h1', 'h3', 'o3', 'b2']
    const started = Date.now()
    let round = 0
    const attempts: string[] = []
    while (Date.now() - started < 30_000) {
      round++
      await Promise.all(
        writers.map(async (writer) => {
          const w = {
            writer,
            key: `part-${round}`,
            content: `${writer} during the partition, round ${round}`
          }
          attempts.push(writer)
          if (await store(w.writer, w.key, w.content)) acknowledged.push(w)
        })
      )
      await sleep(8_000)
    }
    await lab.heal()
    console.info(`partition: ${attempts.length} writes tried, ${acknowledged.length} acknowledged`)
    // the outside has the servers: its writes must go through
    expect(acknowledged.some((w) => w.writer.startsWith('o'))).toBe(true)
    expect(await unreadable(acknowledged, NAMES, 150_000)).toEqual([])
  }, 400_000)

  it('2 % random loss on every agent: every operation still correct', async () => {
    await lab.setLossEverywhere(0.02)
    try {
      const writes = ['o4', 'h3', 'b2', 'o1'].map((writer, i) => ({
        writer,
        key: `lossy-${i}`,
        content: `written through 2 % loss by ${writer}`
      }))
      for (const w of writes) expect(await store(w.writer, w.key, w.content), `${w.writer} stores`).toBe(true)
      expect(await unreadable(writes, ['o5', 'h1', 'b3', 'o2'], 60_000)).toEqual([])
    } finally {
      await lab.setLossEverywhere(0)
    }
  }, 300_000)
})
