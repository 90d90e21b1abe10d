/**
 * The lab benchmark: CHORUS agents and raw @libp2p/kad-dht nodes side by side in one network lab
 * (@chorus/netlab: Linux network namespaces, a public site and a site behind a NAT router), store
 * and retrieve latency through the agents' HTTP API beside kad-dht put/get, under three conditions
 * (direct, relayed, 2 % loss), CHORUS and raw operations interleaved sample by sample so that the
 * machine's load hits both alike. Needs root, `ip` and `iptables`; reports why not otherwise.
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { createLab, type Lab, labUnavailableReason } from '@chorus/netlab'
import { makeTeam } from '../records/procs.js'
import { summarize } from '../stats.js'
import { type LabAgent, type RawNode, startLabAgent, startRawNode } from './nodes.js'
import type { LabBenchOptions } from './options.js'
import type { LabCondition, LabConditionResult, LabLatency, LabResult } from './types.js'

const ROLE = 'backend_developer'
const PUBLIC_AGENTS = ['a1', 'a2', 'a3', 'a4']
const NAT_AGENT = 'h1'
const PUBLIC_RAW = ['k1', 'k2', 'k3', 'k4']
const NAT_RAW = 'kh1'
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Status {
  network?: {
    connectedPeers?: number
    dht?: {
      mode?: string
      reachability?: {
        status?: string
        relayAddresses?: number
        relayedConnections?: number
        directUpgrades?: number
        relays?: string[]
      }
    }
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, everyMs = 1_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return true
    if (Date.now() > deadline) return false
    await pause(everyMs)
  }
}

class Samples {
  readonly ms: number[] = []
  failed = 0
  readonly errors: Record<string, number> = {}
  fail(why: string): void {
    this.failed++
    this.errors[why] = (this.errors[why] ?? 0) + 1
  }
  async time(op: () => Promise<string | undefined>): Promise<boolean> {
    const t = performance.now()
    const why = await op().catch(() => 'request failed')
    if (why === undefined) this.ms.push(performance.now() - t)
    else this.fail(why)
    return why === undefined
  }
  result(): LabLatency {
    return { summary: summarize(this.ms), failed: this.failed, errors: this.errors }
  }
}

export async function runLabBenchmark(options: LabBenchOptions = {}): Promise<LabResult> {
  const why = labUnavailableReason()
  if (why !== undefined) return { available: false, reason: why }
  const t0 = performance.now()
  const loadAtStart = loadavg()[0] ?? Number.NaN
  const log = options.log ?? (() => {})
  const samples = options.samples ?? 20
  const warmup = options.warmup ?? 2
  const loss = options.loss ?? 0.02
  const recordBytes = options.recordBytes ?? 1024
  const notes: string[] = []
  const lab = await createLab()
  try {
    await lab.addSite('office')
    await lab.addSite('home', { nat: true })
    for (const n of [...PUBLIC_AGENTS, ...PUBLIC_RAW]) await lab.addNode('office', n)
    for (const n of [NAT_AGENT, NAT_RAW]) await lab.addNode('home', n)
    const teamDir = join(lab.dir, 'team')
    const names = [...PUBLIC_AGENTS, NAT_AGENT]
    await makeTeam(teamDir, names, ROLE)
    const start = (name: string, bootstrap: string[]) =>
      startLabAgent(lab, name, { dataDir: join(teamDir, name), role: ROLE, bootstrap })
    const agents = new Map<string, LabAgent>()
    const first = await start(names[0]!, [])
    agents.set(first.name, first)
    for (const a of await Promise.all(names.slice(1).map((n) => start(n, [first.dialAddress]))))
      agents.set(a.name, a)
    log(`lab: ${agents.size} agents up`)
    const raw = new Map<string, RawNode>()
    for (const r of await Promise.all([...PUBLIC_RAW, NAT_RAW].map((n) => startRawNode(lab, n))))
      raw.set(r.name, r)
    const rawBoot = raw.get(PUBLIC_RAW[0]!)!.addr
    for (const r of raw.values()) {
      if (r.name === PUBLIC_RAW[0]) continue
      const res = await r.call('POST', '/dial', { addr: rawBoot })
      if (res.status !== 200) throw new Error(`raw kad-dht node ${r.name} could not join`)
    }
    const rawMeshed = await waitFor(async () => {
      for (const n of PUBLIC_RAW) {
        const s = await raw.get(n)!.call<{ size: number }>('GET', '/size')
        if (s.body.size < PUBLIC_RAW.length - 1) return false
      }
      return true
    }, 60_000)
    if (!rawMeshed)
      notes.push('The raw kad-dht servers had not all found each other within 60 s; measured all the same.')
    const status = async (name: string) =>
      (await agents.get(name)!.api<Status>('GET', '/v1/status')).body.network
    const natReady = await waitFor(
      async () => {
        const d = (await status(NAT_AGENT))?.dht
        return (
          d?.mode === 'client' &&
          d.reachability?.status === 'private' &&
          (d.reachability.relayAddresses ?? 0) > 0
        )
      },
      150_000,
      2_000
    )
    if (!natReady)
      notes.push(
        `${NAT_AGENT} had not become a DHT client with a relay reservation within 150 s; measured all the same.`
      )
    await waitFor(
      async () => {
        for (const n of PUBLIC_AGENTS)
          if (((await status(n))?.connectedPeers ?? 0) < names.length - 1) return false
        return true
      },
      60_000,
      2_000
    )
    log(
      `lab: ${raw.size} raw kad-dht nodes up; ${NAT_AGENT} behind NAT ${natReady ? 'with a relay reservation' : 'NOT ready'}`
    )

    const ctx: Ctx = { lab, agents, raw, samples, warmup, recordBytes, tag: Date.now().toString(36), log }
    const conditions: LabConditionResult[] = []
    for (const condition of options.conditions ?? (['direct', 'relayed', 'loss'] as const)) {
      const c0 = performance.now()
      try {
        conditions.push(await runCondition(ctx, condition, loss, status))
      } catch (err) {
        const empty = new Samples().result()
        conditions.push({
          condition,
          setup: 'stopped before its samples',
          chorusStore: empty,
          chorusRetrieve: empty,
          rawPut: empty,
          rawGet: empty,
          readsFromOwnReplica: 0,
          durationMs: performance.now() - c0,
          error: (err as Error).message.slice(0, 300)
        })
        log(`lab ${condition}: stopped early: ${(err as Error).message}`)
      } finally {
        await lab.heal().catch(() => {})
        await lab.setLossEverywhere(0).catch(() => {})
      }
    }
    notes.push(
      "Every figure is timed by the bench outside the lab, through the same path for both: a Unix-socket forwarder into the node's namespace, then HTTP on its loopback (the agent's API, or the raw node's small control server)."
    )
    return {
      available: true,
      date: new Date().toISOString(),
      layout: `one lab of Linux network namespaces, each node in its own: site "office" (public, routed) with ${PUBLIC_AGENTS.length} CHORUS agents (chorus-node start, one OS process each) and ${PUBLIC_RAW.length} raw kad-dht server processes; site "home" behind a NAT router (masquerade, replies only) with 1 agent (${NAT_AGENT}, a DHT client with a relay reservation on an office agent) and 1 raw kad-dht client process (${NAT_RAW}); raw nodes are plain libp2p (TCP, Noise, Yamux) + @libp2p/kad-dht 16 with permissive records, servers on the public site and a client behind NAT (plain kad-dht has no relay)`,
      method: `${samples} timed samples of each operation under each condition (after ${warmup} untimed), one at a time; each sample is a CHORUS store (POST /v1/content, ${recordBytes}-byte record, a new address) then a retrieve of it by another agent (GET /v1/content, one that did not acknowledge the store when there is one), and a raw kad-dht put (${recordBytes} bytes, a new key) then a get of it by another raw node; the two pairs alternate which goes first from one sample to the next. Failed operations are counted, not timed.`,
      samples,
      recordBytes,
      loss,
      conditions,
      loadAverage: { start: loadAtStart, end: loadavg()[0] ?? Number.NaN },
      notes,
      durationMs: performance.now() - t0
    }
  } finally {
    await lab.destroy()
  }
}

interface Pair {
  writer: string
  readers: string[]
}

const pairText = (pairs: Pair[], raw: Pair[]): string =>
  `writer ${pairs[0]!.writer}, readers ${pairs[0]!.readers.join(', ')}; raw: ${raw[0]!.writer} puts, ${raw[0]!.readers.join(', ')} get`

interface Ctx {
  lab: Lab
  agents: Map<string, LabAgent>
  raw: Map<string, RawNode>
  samples: number
  warmup: number
  recordBytes: number
  tag: string
  log: (line: string) => void
}

async function runCondition(
  ctx: Ctx,
  condition: LabCondition,
  loss: number,
  status: (name: string) => Promise<Status['network']>
): Promise<LabConditionResult> {
  const c0 = performance.now()
  const { lab, agents, raw } = ctx
  // who writes and who reads, by sample (the relayed condition alternates directions)
  let pairs: Pair[] = [{ writer: PUBLIC_AGENTS[0]!, readers: PUBLIC_AGENTS.slice(1) }]
  let rawPairs: Pair[] = [{ writer: PUBLIC_RAW[0]!, readers: PUBLIC_RAW.slice(1) }]
  let setup: string
  let relayBefore: { relayedConnections: number; directUpgrades: number } | undefined
  if (condition === 'relayed') {
    // a public agent that is not the NATed agent's relay; the direct path between the two is cut
    const relays = (await status(NAT_AGENT))?.dht?.reachability?.relays ?? []
    const i = PUBLIC_AGENTS.findIndex((n, k) => k > 0 && !relays.includes(agents.get(n)!.peerId))
    const reader = PUBLIC_AGENTS[i > 0 ? i : 1]!
    const rawReader = PUBLIC_RAW[PUBLIC_AGENTS.indexOf(reader)]!
    pairs = [
      { writer: NAT_AGENT, readers: [reader] },
      { writer: reader, readers: [NAT_AGENT] }
    ]
    rawPairs = [
      { writer: NAT_RAW, readers: [rawReader] },
      { writer: rawReader, readers: [NAT_RAW] }
    ]
    await lab.partition([NAT_AGENT], [reader])
    await lab.partition([NAT_RAW], [rawReader])
    // as the lab test does: once their direct connection is gone, only the relay is left
    const gone = await waitFor(
      async () => {
        const peers =
          (await agents.get(reader)!.api<{ peers?: Array<{ id: string }> }>('GET', '/v1/peers')).body.peers ??
          []
        return !peers.some((p) => p.id === agents.get(NAT_AGENT)!.peerId)
      },
      90_000,
      2_000
    )
    setup = `${NAT_AGENT} (behind NAT) and ${reader} (public, not ${NAT_AGENT}'s relay), one writing and the other reading, the direction alternating from sample to sample, with the direct path between the two cut by a lab partition of those two nodes only (DCUtR stays on; its hole punch is dropped by the same partition), so ${reader} reaches ${NAT_AGENT} only over the relay (when it needs ${NAT_AGENT}: a replica placed on it, a read served by it); every other path is direct${gone ? '' : ` (their old direct connection had not closed within 90 s)`}; raw: ${NAT_RAW} (client behind NAT) and ${rawReader} the same way, the same partition between those two`
    const r = (await status(NAT_AGENT))?.dht?.reachability
    relayBefore = { relayedConnections: r?.relayedConnections ?? 0, directUpgrades: r?.directUpgrades ?? 0 }
  } else if (condition === 'loss') {
    await lab.setLossEverywhere(loss)
    setup = `${(loss * 100).toFixed(1)} % random drop (iptables statistic) on every packet every lab node sends (agents and raw nodes alike); ${pairText(pairs, rawPairs)}`
  } else {
    setup = `all on the public site, direct connections; ${pairText(pairs, rawPairs)}`
  }
  ctx.log(`lab ${condition}: ${ctx.warmup} warm-up + ${ctx.samples} samples`)
  const store = new Samples()
  const retrieve = new Samples()
  const put = new Samples()
  const get = new Samples()
  let readsFromOwnReplica = 0
  const content = (key: string): string => `${key} `.padEnd(ctx.recordBytes, 'x')
  for (let i = -ctx.warmup; i < ctx.samples; i++) {
    const timed = i >= 0
    const key = `${condition}-${ctx.tag}-${i + ctx.warmup}`
    const { writer, readers } = pairs[(i + ctx.warmup) % pairs.length]!
    const { writer: rawWriter, readers: rawReaders } = rawPairs[(i + ctx.warmup) % rawPairs.length]!
    const chorus = async (): Promise<void> => {
      const address = `ucxl://${writer}:${ROLE}@bench:lab/*^/${key}`
      const s = timed ? store : new Samples()
      let holders: string[] = []
      const stored = await s.time(async () => {
        const res = await agents
          .get(writer)!
          .api<{ metadata?: { dhtPeers?: string[] }; error?: { code?: string } }>('POST', '/v1/content', {
            address,
            content: content(key),
            contentType: 'text/plain'
          })
        if (res.status !== 201) return `store HTTP ${res.status} ${res.body.error?.code ?? ''}`.trim()
        holders = res.body.metadata?.dhtPeers ?? []
        return undefined
      })
      if (!stored) return
      const k = (i + ctx.warmup) % readers.length
      const rotated = [...readers.slice(k), ...readers.slice(0, k)]
      const reader = rotated.find((n) => !holders.includes(agents.get(n)!.peerId)) ?? rotated[0]!
      if (timed && holders.includes(agents.get(reader)!.peerId)) readsFromOwnReplica++
      await (timed ? retrieve : new Samples()).time(async () => {
        const res = await agents
          .get(reader)!
          .api<{ content?: string; error?: { code?: string } }>(
            'GET',
            `/v1/content?address=${encodeURIComponent(address)}`
          )
        if (res.status !== 200) return `retrieve HTTP ${res.status} ${res.body.error?.code ?? ''}`.trim()
        return res.body.content === content(key) ? undefined : 'retrieve returned other content'
      })
    }
    const kad = async (): Promise<void> => {
      const rawKey = `lab-${key}`
      const ok = await (timed ? put : new Samples()).time(async () => {
        const res = await raw
          .get(rawWriter)!
          .call<{ error?: string }>('POST', '/put', { key: rawKey, bytes: ctx.recordBytes })
        return res.status === 200 ? undefined : 'put failed'
      })
      if (!ok) return
      const reader = rawReaders[(i + ctx.warmup) % rawReaders.length]!
      await (timed ? get : new Samples()).time(async () => {
        const res = await raw.get(reader)!.call<{ bytes?: number }>('POST', '/get', { key: rawKey })
        if (res.status !== 200) return 'get failed'
        return res.body.bytes === ctx.recordBytes ? undefined : 'get returned another value'
      })
    }
    // alternate which goes first, so neither always runs right after the other's background work
    if (i % 2 === 0) {
      await chorus()
      await kad()
    } else {
      await kad()
      await chorus()
    }
  }
  let relay: LabConditionResult['relay']
  if (relayBefore != null) {
    const r = (await status(NAT_AGENT))?.dht?.reachability
    relay = {
      relayedConnections: (r?.relayedConnections ?? 0) - relayBefore.relayedConnections,
      directUpgrades: (r?.directUpgrades ?? 0) - relayBefore.directUpgrades
    }
  }
  const result: LabConditionResult = {
    condition,
    setup,
    chorusStore: store.result(),
    chorusRetrieve: retrieve.result(),
    rawPut: put.result(),
    rawGet: get.result(),
    readsFromOwnReplica,
    ...(relay != null ? { relay } : {}),
    durationMs: performance.now() - c0
  }
  const p50 = (l: LabLatency): string => l.summary.p50.toFixed(1)
  ctx.log(
    `lab ${condition}: store p50 ${p50(result.chorusStore)} ms (raw put ${p50(result.rawPut)} ms), retrieve p50 ${p50(result.chorusRetrieve)} ms (raw get ${p50(result.rawGet)} ms); failed ${store.failed}/${retrieve.failed}/${put.failed}/${get.failed}${relay != null ? `; relayed connections +${relay.relayedConnections}, direct upgrades +${relay.directUpgrades}` : ''}`
  )
  return result
}
