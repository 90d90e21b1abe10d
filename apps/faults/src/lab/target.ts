/**
 * The network-lab FaultTarget (@chorus/netlab): every agent in a network namespace of its own,
 * with its own address; a public site (`office`: DHT servers and relays) and a site behind a NAT
 * router (`home`: DHT clients holding a relay reservation on a public member). Partitions and loss
 * are the lab's iptables rules in the nodes' namespaces; kill -9, restart and wipe act on the agent
 * processes; a relay fault cuts a NATed node from the relay(s) it holds a reservation on (its
 * status's `relays`), so that it must reserve on another member, and removes the cut afterwards.
 * Needs root, `ip` and `iptables` (`labUnavailableReason()`).
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createLab, type Lab, type LabProcess } from '@chorus/netlab'
import { type AgentSlot, provisionTeam, wipeDataDir } from '../loopback/agents.js'
import { FAST_AGENT_ENV } from '../loopback/target.js'
import type { FaultKind } from '../schedule.js'
import type { FaultTarget, NodeEndpoint } from '../target.js'
import { LAB_API_PORT, labDialAddress, startLabAgent } from './agents.js'
import { labLayout, labNodeName, natNodes, RELAY_CHAIN, relayCutRules, relayNodesOf } from './layout.js'

const run = promisify(execFile)

export interface LabTargetInit {
  /** Nodes (at least 3): the larger half public, the rest behind NAT (`labLayout`). */
  nodes: number
  /** The role every member holds. Default backend_developer. */
  role?: string
  /** Extra `CHORUS_*` settings for every agent. */
  env?: Record<string, string>
  /** Keep the agents' data directories and logs after close (their path is in `root`). Default false. */
  keep?: boolean
  /** How long a relay fault waits for a NATed node to hold a reservation before it gives up, ms. Default 30 s. */
  relayWaitMs?: number
  log?: (line: string) => void
}

/** What the lab target reads of `/v1/status`. */
export interface LabNodeStatus {
  mode?: string
  reachability?: string
  /** Peer ids of the relays this node holds a reservation on. */
  relays: string[]
}

export interface LabTarget extends FaultTarget {
  readonly root: string
  readonly relayNodes: readonly number[]
  /** The lab, once started. */
  readonly lab: Lab | undefined
  /** Create the lab and start every agent (public ones first). */
  start(): Promise<void>
  /** The node's DHT mode, reachability and relays, from its API. */
  status(node: number): Promise<LabNodeStatus>
  /** The node's libp2p peer id (known once it has started). */
  peerId(node: number): string | undefined
  /** The nodes a relay fault on `node` cut it from (empty when none is in effect). */
  removedRelays(node: number): number[]
  /** Stop every agent and destroy the lab (and, unless `keep`, the files). */
  close(): Promise<void>
}

/** Settings for a few agents in the lab on a loaded 2-core machine (the loopback run's, a little slower). */
export const LAB_AGENT_ENV: Record<string, string> = {
  ...FAST_AGENT_ENV,
  CHORUS_LOG_LEVEL: 'info',
  CHORUS_JOIN_STAGGER_MS: '500',
  CHORUS_REPLICATION_REPAIR_INTERVAL: '3000',
  CHORUS_HYBRID_PROBE_INTERVAL: '2000',
  CHORUS_DHT_DISCOVERY_INTERVAL: '3000',
  CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '2000'
}

const open = new Set<LabTarget>()

/** Close every lab target still open: for SIGINT/SIGTERM handlers. */
export async function closeLabTargets(): Promise<void> {
  await Promise.all([...open].map((t) => t.close()))
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function createLabTarget(init: LabTargetInit): Promise<LabTarget> {
  const log = init.log ?? (() => {})
  const role = init.role ?? 'backend_developer'
  const layout = labLayout(init.nodes)
  const nated = natNodes(layout)
  const isNated = new Set(nated)
  const root = mkdtempSync(join(tmpdir(), 'chorus-labfaults-'))
  const slots: AgentSlot[] = await provisionTeam(root, init.nodes, role, 0)
  const procs = new Map<number, LabProcess>()
  const tokens = new Map<number, string>()
  const peerIds = new Map<number, string>()
  const cut = new Map<number, number[]>()
  const incarnations = new Map<number, number>()
  let lab: Lab | undefined

  const slot = (i: number): AgentSlot => {
    const s = slots[i]
    if (s === undefined) throw new RangeError(`no node ${i}`)
    return s
  }
  const theLab = (): Lab => {
    if (lab === undefined) throw new Error('the lab target is not started')
    return lab
  }
  const names = (xs: readonly number[]) => xs.map(labNodeName)
  const ipt = (node: number, args: string[]) =>
    run('ip', ['netns', 'exec', theLab().node(labNodeName(node)).ns, 'iptables', '-w', ...args], {
      timeout: 20_000
    })
  const bootstrap = (node: number): string[] =>
    layout[0]!.nodes
      .filter((n) => n !== node && peerIds.has(n))
      .map((n) => labDialAddress(theLab(), labNodeName(n), peerIds.get(n) as string))

  async function startNode(node: number): Promise<void> {
    const s = slot(node)
    const started = await startLabAgent(
      theLab(),
      s,
      { ...LAB_AGENT_ENV, ...init.env, CHORUS_ROLE: role, CHORUS_BOOTSTRAP_PEERS: bootstrap(node).join(',') },
      join(root, `${s.name}.log`)
    )
    procs.set(node, started.process)
    tokens.set(node, started.token)
    peerIds.set(node, started.peerId)
    incarnations.set(node, (incarnations.get(node) ?? 0) + 1)
  }

  async function stopNode(node: number): Promise<void> {
    const p = procs.get(node)
    procs.delete(node)
    await p?.kill9()
  }

  async function status(node: number): Promise<LabNodeStatus> {
    const token = tokens.get(node)
    if (token === undefined || !procs.has(node)) throw new Error(`node ${node} is not running`)
    const res = await theLab().request(labNodeName(node), LAB_API_PORT, {
      method: 'GET',
      path: '/v1/status',
      headers: { authorization: `Bearer ${token}` },
      timeoutMs: 10_000
    })
    if (res.status !== 200) throw new Error(`status of node ${node}: HTTP ${res.status}`)
    const dht = (
      JSON.parse(res.body) as {
        network?: { dht?: { mode?: string; reachability?: { status?: string; relays?: unknown } } }
      }
    ).network?.dht
    const relays = dht?.reachability?.relays
    return {
      ...(dht?.mode !== undefined ? { mode: dht.mode } : {}),
      ...(dht?.reachability?.status !== undefined ? { reachability: dht.reachability.status } : {}),
      relays: Array.isArray(relays) ? relays.filter((r): r is string => typeof r === 'string') : []
    }
  }

  const target: LabTarget = {
    name: 'lab',
    nodes: init.nodes,
    role,
    root,
    relayNodes: nated,
    unsupported: new Set<FaultKind>(),
    get lab() {
      return lab
    },
    async start() {
      lab = await createLab()
      for (const site of layout) {
        await lab.addSite(site.name, { nat: site.nat })
        for (const n of site.nodes) await lab.addNode(site.name, labNodeName(n))
      }
      for (const n of nated) {
        await ipt(n, ['-N', RELAY_CHAIN])
        await ipt(n, ['-I', 'INPUT', '1', '-j', RELAY_CHAIN])
        await ipt(n, ['-I', 'OUTPUT', '1', '-j', RELAY_CHAIN])
      }
      // the first public node, then the rest in batches of 3 (agents starting at once starve 2 cores)
      const order = layout.flatMap((s) => s.nodes)
      await startNode(order[0] as number)
      const rest = order.slice(1)
      for (let i = 0; i < rest.length; i += 3) await Promise.all(rest.slice(i, i + 3).map(startNode))
      log(
        `${init.nodes} agents started in the lab ${lab.prefix}: ${layout
          .map((s) => `${s.name}${s.nat ? ' (NAT)' : ''} [${names(s.nodes).join(',')}]`)
          .join(', ')}; data under ${root}`
      )
    },
    async partition(a, b) {
      await theLab().partition(names(a), names(b))
    },
    async heal() {
      await theLab().heal()
    },
    async setLoss(node, p) {
      await theLab().setLoss(labNodeName(node), p)
    },
    async kill(node) {
      await stopNode(node)
    },
    async restart(node) {
      await stopNode(node)
      await startNode(node)
    },
    async wipe(node) {
      await stopNode(node)
      wipeDataDir(slot(node))
    },
    async removeRelay(node) {
      if (!isNated.has(node)) throw new Error(`node ${node} is not behind NAT: it has no relay`)
      const deadline = Date.now() + (init.relayWaitMs ?? 30_000)
      let relays: number[] = []
      for (;;) {
        relays = relayNodesOf((await status(node).catch(() => ({ relays: [] }))).relays, peerIds)
        if (relays.length > 0 || Date.now() > deadline) break
        await pause(1_000)
      }
      if (relays.length === 0) throw new Error(`node ${node} holds no relay reservation to take away`)
      const l = theLab()
      for (const r of relays)
        for (const rule of relayCutRules(l.node(labNodeName(r)).address)) await ipt(node, rule)
      cut.set(node, [...(cut.get(node) ?? []), ...relays])
      log(`  relay of ${labNodeName(node)} taken away: cut from ${names(relays).join(',')}`)
    },
    async restoreRelay(node) {
      if (!isNated.has(node)) return
      await ipt(node, ['-F', RELAY_CHAIN])
      cut.delete(node)
    },
    endpoint(node): NodeEndpoint | undefined {
      const token = tokens.get(node)
      if (!procs.has(node) || token === undefined || lab === undefined) return undefined
      const l = lab
      const name = labNodeName(node)
      return {
        url: `http://${l.node(name).host}:${LAB_API_PORT}`,
        token,
        request: (req) => l.request(name, LAB_API_PORT, req)
      }
    },
    incarnation(node) {
      return incarnations.get(node) ?? 0
    },
    agentId(node) {
      return slot(node).name
    },
    status,
    peerId(node) {
      return peerIds.get(node)
    },
    removedRelays(node) {
      return cut.get(node) ?? []
    },
    async close() {
      open.delete(target)
      await Promise.all([...procs.values()].map((p) => p.stop(10_000).catch(() => undefined)))
      procs.clear()
      await lab?.destroy()
      if (init.keep !== true) rmSync(root, { recursive: true, force: true })
    }
  }
  open.add(target)
  return target
}
