import { existsSync, readdirSync } from 'node:fs'
import { labUnavailableReason } from '@chorus/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  addressFor,
  createLabTarget,
  LAB_P2P_PORT,
  type LabTarget,
  labNodeName,
  readContent,
  writeContent
} from '../src/index.js'

// The lab target on a real network lab: 3 agents in namespaces of their own, n0 and n1 on a public
// site, n2 behind a NAT router holding a relay reservation on one of them. Each fault kind is
// injected once and its effect checked: partitions and loss on real TCP connections between the
// namespaces, kill -9 / restart / wipe on the agent processes and their data, and the relay
// taken away (n2's reservation on it ends and n2 reserves on the other public member). Skipped
// unless the lab can run (root, ip, iptables); as root a missing tool is a failure.
const why = labUnavailableReason()
if (why !== undefined) console.warn(`skipping the lab target tests: ${why}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

it.runIf(process.getuid?.() === 0 && why !== undefined)('the lab can run here (root)', () => {
  expect(why).toBeUndefined()
})

async function waitFor(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 1_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await fn().catch(() => false)) return true
    if (Date.now() > deadline) return false
    await sleep(everyMs)
  }
}

describe.skipIf(why !== undefined)('lab target: each fault kind once, with its effect', () => {
  let target: LabTarget
  const role = 'backend_developer'

  /** Whether a TCP connection from `from` to `to`'s libp2p port opens within 3 s. */
  async function connects(from: number, to: number): Promise<boolean> {
    const lab = target.lab!
    const address = lab.node(labNodeName(to)).address
    const script = `const s = require('node:net').connect(${LAB_P2P_PORT}, '${address}');
      s.setTimeout(3000); s.on('connect', () => process.exit(0));
      s.on('timeout', () => process.exit(1)); s.on('error', () => process.exit(1))`
    const p = lab.spawn(labNodeName(from), { args: ['-e', script], name: 'probe' })
    return (await p.exited) === 0
  }

  beforeAll(async () => {
    target = await createLabTarget({ nodes: 3, role, log: (l) => console.log(`  ${l}`) })
    await target.start()
  }, 300_000)

  afterAll(async () => {
    await target?.close()
  }, 60_000)

  it('lays out two public nodes and one behind NAT, which holds a relay reservation', async () => {
    expect(target.relayNodes).toEqual([2])
    expect(target.lab!.node('n2').site.nat).toBe(true)
    const ok = await waitFor(async () => {
      const s = await target.status(2)
      return s.mode === 'client' && s.relays.length > 0
    }, 120_000)
    expect(ok, 'n2 is a DHT client with a relay reservation').toBe(true)
    expect((await target.status(0)).mode).toBe('server')
  }, 150_000)

  it('stores through the NATed node and reads through a public one (the endpoint transport)', async () => {
    const address = addressFor('n2', role, 'lab-target')
    const w = await writeContent(target.endpoint(2)!, address, 'through the NAT', 20_000)
    expect(w.type).toBe('ok')
    const read = await waitFor(async () => {
      const r = await readContent(target.endpoint(0)!, address, 20_000)
      return r.type === 'ok' && r.seen?.version === 1
    }, 60_000)
    expect(read).toBe(true)
  }, 120_000)

  it('partition cuts the links between the sides; heal restores them', async () => {
    expect(await connects(1, 0)).toBe(true)
    await target.partition([0], [1, 2])
    expect(await connects(1, 0)).toBe(false)
    expect(await connects(2, 0)).toBe(false)
    expect(await connects(2, 1)).toBe(true)
    await target.heal()
    expect(await connects(1, 0)).toBe(true)
  }, 60_000)

  it('loss 1 drops every packet a node sends; loss 0 removes it', async () => {
    await target.setLoss(0, 1)
    expect(await connects(1, 0)).toBe(false)
    await target.setLoss(0, 0)
    expect(await connects(1, 0)).toBe(true)
  }, 60_000)

  it('kill -9 stops the agent; restart brings it back on its data', async () => {
    const before = target.incarnation(1)
    await target.kill(1)
    expect(target.endpoint(1)).toBeUndefined()
    expect(await connects(0, 1)).toBe(false)
    await target.restart(1)
    expect(target.incarnation(1)).toBe(before + 1)
    const r = await readContent(target.endpoint(1)!, addressFor('n2', role, 'lab-target'), 20_000)
    expect(r.type).toBe('ok')
  }, 180_000)

  it('wipe deletes the data but the provisioned identity and team files', async () => {
    const dataDir = `${target.root}/n1`
    const peer = target.peerId(1)
    await target.wipe(1)
    expect(target.endpoint(1)).toBeUndefined()
    expect(readdirSync(dataDir).sort()).toEqual(
      ['keys', 'libp2p', 'team'].filter((d) => existsSync(`${dataDir}/${d}`))
    )
    expect(existsSync(`${dataDir}/agent.json`)).toBe(false)
    await target.restart(1)
    expect(target.peerId(1), 'the same node key').toBe(peer)
  }, 180_000)

  it('relay: the NATed node is cut from its relay, reserves on the other member, and gets it back', async () => {
    // after the restarts above, n2 may be between reservations
    expect(await waitFor(async () => (await target.status(2)).relays.length > 0, 120_000)).toBe(true)
    await target.removeRelay(2)
    const removed = target.removedRelays(2)
    expect(removed.length).toBeGreaterThan(0)
    const removedIds = removed.map((n) => target.peerId(n))
    expect(await connects(2, removed[0] as number), 'no connection to the removed relay').toBe(false)
    const moved = await waitFor(async () => {
      const { relays } = await target.status(2)
      return relays.length > 0 && relays.every((r) => !removedIds.includes(r))
    }, 120_000)
    const after = await target.status(2)
    console.log(`relay of n2: was ${removed.map(labNodeName)}, now ${after.relays.map((r) => r.slice(-6))}`)
    expect(moved, 'the reservation on the removed relay is gone and one on another member held').toBe(true)
    await target.restoreRelay(2)
    expect(target.removedRelays(2)).toEqual([])
    expect(await connects(2, removed[0] as number)).toBe(true)
  }, 300_000)
})
