/**
 * The loopback FaultTarget: K real agent processes on 127.0.0.1. Kill, restart and wipe are real;
 * partitions and loss use iptables on `lo` when it is there (root), and are unsupported (skipped,
 * and reported so) otherwise. A loopback network has no NAT, so `relay` is always unsupported.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FaultKind } from '../schedule.js'
import type { FaultTarget, NodeEndpoint } from '../target.js'
import { type AgentSlot, dialAddress, provisionTeam, startAgent, stopAgent, wipeDataDir } from './agents.js'
import { createLoopbackFirewall, iptablesAvailable, type LoopbackFirewall } from './iptables.js'

export interface LoopbackTargetInit {
  nodes: number
  /** The role every member holds (all of them can read each other's records). Default backend_developer. */
  role?: string
  /** Extra `CHORUS_*` settings for every agent. */
  env?: Record<string, string>
  /** Use iptables for partitions and loss when available. Default true. */
  firewall?: boolean
  /** Keep the data directories and logs after close (their path is in `root`). Default false. */
  keep?: boolean
  log?: (line: string) => void
}

export interface LoopbackTarget extends FaultTarget {
  /** The directory holding every agent's data directory and log. */
  readonly root: string
  /** Start every agent (node 0 first, the others bootstrapping from it). */
  start(): Promise<void>
  /** Stop every agent, remove the firewall rules and (unless `keep`) the files. */
  close(): Promise<void>
}

/** Settings that make a small local network converge quickly and fail fast under faults. */
export const FAST_AGENT_ENV: Record<string, string> = {
  CHORUS_LOG_LEVEL: 'warn',
  CHORUS_JOIN_STAGGER_MS: '200',
  CHORUS_REPLICATION_REPAIR_INTERVAL: '1500',
  CHORUS_HYBRID_PROBE_INTERVAL: '1000',
  CHORUS_DHT_DISCOVERY_INTERVAL: '2000',
  CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '1000',
  CHORUS_SHUTDOWN_TIMEOUT_MS: '10000',
  CHORUS_STORAGE_STORE_TIMEOUT: '10000',
  CHORUS_STORAGE_RETRIEVE_TIMEOUT: '10000',
  // a read of the latest version may be served from the cache for its TTL (10 min by default):
  // a short one sends most reads down the real read path, and bounds the settling time
  CHORUS_STORAGE_CACHE_TTL: '2000'
}

/** Targets not yet closed, for `closeLoopbackTargets()` on a signal. */
const open = new Set<LoopbackTarget>()

/** Close every loopback target still open (agents stopped, firewall rules removed): for SIGINT/SIGTERM handlers. */
export async function closeLoopbackTargets(): Promise<void> {
  await Promise.all([...open].map((t) => t.close()))
}

export async function createLoopbackTarget(init: LoopbackTargetInit): Promise<LoopbackTarget> {
  const log = init.log ?? (() => {})
  const role = init.role ?? 'backend_developer'
  const root = mkdtempSync(join(tmpdir(), 'chorus-faults-'))
  // group ids of this run only: the firewall tells the agents' connections apart by them
  const gidBase = 40_000 + (process.pid % 1_000) * 64
  const slots: AgentSlot[] = await provisionTeam(root, init.nodes, role, gidBase)
  const wanted = init.firewall !== false
  const useFirewall = wanted && (await iptablesAvailable())
  let firewall: LoopbackFirewall | undefined
  const unsupported = new Set<FaultKind>(['relay'])
  if (!useFirewall) {
    unsupported.add('partition')
    unsupported.add('loss')
    log(
      wanted
        ? 'iptables is not available (or not root): partitions and loss are skipped'
        : 'no firewall asked for: partitions and loss are skipped'
    )
  }
  const slot = (i: number): AgentSlot => {
    const s = slots[i]
    if (s === undefined) throw new RangeError(`no node ${i}`)
    return s
  }
  const envOf = (s: AgentSlot): Record<string, string> => {
    const peers = slots
      .filter((o) => o !== s)
      .map(dialAddress)
      .filter((a): a is string => a !== undefined)
    return {
      ...FAST_AGENT_ENV,
      ...init.env,
      CHORUS_ROLE: role,
      CHORUS_LISTEN: `/ip4/127.0.0.1/tcp/${s.port}`,
      CHORUS_API_PORT: String(s.apiPort),
      CHORUS_BOOTSTRAP_PEERS: peers.join(',')
    }
  }
  const unreachable = (kind: string) => new Error(`${kind} is not supported on this loopback target`)

  const target: LoopbackTarget = {
    name: 'loopback',
    nodes: init.nodes,
    role,
    root,
    unsupported,
    async start() {
      if (useFirewall) {
        firewall = await createLoopbackFirewall(`CHFX${process.pid % 100_000}`, slots)
      }
      await startAgent(slot(0), envOf(slot(0)))
      await Promise.all(slots.slice(1).map((s) => startAgent(s, envOf(s))))
      log(`${init.nodes} agents started under ${root}`)
    },
    async partition(a, b) {
      if (firewall === undefined) throw unreachable('partition')
      await firewall.partition(a, b)
    },
    async heal() {
      await firewall?.heal()
    },
    async setLoss(node, p) {
      if (firewall === undefined) throw unreachable('loss')
      await firewall.setLoss(node, p)
    },
    async kill(node) {
      await stopAgent(slot(node), 'SIGKILL')
    },
    async restart(node) {
      const s = slot(node)
      if (s.child !== undefined) await stopAgent(s, 'SIGKILL')
      await startAgent(s, envOf(s))
    },
    async wipe(node) {
      const s = slot(node)
      await stopAgent(s, 'SIGKILL')
      wipeDataDir(s)
    },
    async removeRelay() {
      throw unreachable('relay')
    },
    async restoreRelay() {
      throw unreachable('relay')
    },
    endpoint(node): NodeEndpoint | undefined {
      const s = slot(node)
      if (s.child === undefined || s.info === undefined || s.token === undefined) return undefined
      return { url: s.info.url, token: s.token }
    },
    incarnation(node) {
      return slot(node).incarnation
    },
    agentId(node) {
      return slot(node).name
    },
    async close() {
      open.delete(target)
      await Promise.all(slots.map((s) => stopAgent(s, 'SIGTERM')))
      await firewall?.close()
      if (init.keep !== true) rmSync(root, { recursive: true, force: true })
    }
  }
  open.add(target)
  return target
}
