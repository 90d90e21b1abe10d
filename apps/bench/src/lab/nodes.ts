/**
 * The lab bench's processes inside the lab (@chorus/netlab): CHORUS agents (`chorus-node start`,
 * one per namespace, API on the namespace's loopback) and raw kad-dht nodes (kad-node.ts), both
 * driven over HTTP through the lab's forwarder. The lab kills them all when it is destroyed.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Lab, LabProcess } from '@chorus/netlab'
import { chorusNodeBin } from '../records/procs.js'

export const AGENT_P2P_PORT = 4001
export const AGENT_API_PORT = 7700
export const KAD_P2P_PORT = 4101
export const KAD_CONTROL_PORT = 7800
const KAD_NODE = join(dirname(fileURLToPath(import.meta.url)), 'kad-node.js')
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface Reply<T> {
  status: number
  body: T
}

export interface LabAgent {
  name: string
  peerId: string
  dialAddress: string
  process: LabProcess
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>>
}

export interface RawNode {
  name: string
  /** Its announced address with /p2p/ (servers only; '' for a NATed client). */
  addr: string
  process: LabProcess
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<Reply<T>>
}

/** The environment without CHORUS_* (each agent gets only the settings given to it). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
  return env
}

async function json<T>(
  lab: Lab,
  node: string,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: unknown
): Promise<Reply<T>> {
  const res = await lab.request(node, port, {
    method,
    path,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    timeoutMs: 90_000
  })
  let parsed: unknown = {}
  try {
    parsed = res.body === '' ? {} : JSON.parse(res.body)
  } catch {
    parsed = {}
  }
  return { status: res.status, body: parsed as T }
}

/**
 * Agent settings for a small lab on a shared 2-core machine: the lab test's background rounds
 * (apps/node/test/lab-agents.ts), replication factor 3, logs at warn.
 */
export function agentEnv(extra: Record<string, string>): Record<string, string> {
  return {
    CHORUS_JOIN_STAGGER_MS: '500',
    CHORUS_LOG_LEVEL: 'warn',
    CHORUS_REPLICATION_REPLICATION_FACTOR: '3',
    CHORUS_REPLICATION_REPAIR_INTERVAL: '5000',
    CHORUS_HYBRID_PROBE_INTERVAL: '3000',
    CHORUS_DHT_DISCOVERY_INTERVAL: '5000',
    CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '3000',
    CHORUS_SHUTDOWN_TIMEOUT_MS: '10000',
    ...extra
  }
}

/** Starts `chorus-node start` in the node's namespace and waits until its API answers /readyz. */
export async function startLabAgent(
  lab: Lab,
  name: string,
  o: { dataDir: string; role: string; bootstrap: string[]; timeoutMs?: number }
): Promise<LabAgent> {
  const node = lab.node(name)
  const announce = node.site.nat ? undefined : `/dns4/${node.host}/tcp/${AGENT_P2P_PORT}`
  const proc = lab.spawn(name, {
    args: [chorusNodeBin(), 'start'],
    name: 'agent',
    env: {
      ...cleanEnv(),
      ...agentEnv({
        CHORUS_AGENT_ID: name,
        CHORUS_ROLE: o.role,
        CHORUS_DATA_DIR: o.dataDir,
        CHORUS_API_PORT: String(AGENT_API_PORT),
        CHORUS_LISTEN: `/ip4/0.0.0.0/tcp/${AGENT_P2P_PORT}`,
        ...(announce != null ? { CHORUS_ANNOUNCE: announce } : {}),
        CHORUS_BOOTSTRAP_PEERS: o.bootstrap.join(',')
      })
    }
  })
  let token: string | undefined
  const api = <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> => {
    token ??= readFileSync(join(o.dataDir, 'api-token'), 'utf8').trim()
    return json<T>(lab, name, AGENT_API_PORT, method, path, { authorization: `Bearer ${token}` }, body)
  }
  const deadline = Date.now() + (o.timeoutMs ?? 180_000)
  for (;;) {
    if (!proc.running) throw new Error(`lab agent ${name} exited during start-up; log: ${tail(proc.logFile)}`)
    const info = readInfo(o.dataDir)
    if (info?.pid === proc.pid) {
      const ready = await lab
        .request(name, AGENT_API_PORT, { method: 'GET', path: '/readyz', timeoutMs: 5_000 })
        .then(
          (r) => r.status === 200,
          () => false
        )
      if (ready)
        return {
          name,
          peerId: info.peerId,
          dialAddress: `/dns4/${node.host}/tcp/${AGENT_P2P_PORT}/p2p/${info.peerId}`,
          process: proc,
          api
        }
    }
    if (Date.now() > deadline) {
      await proc.kill9()
      throw new Error(`lab agent ${name} not ready in time; log: ${tail(proc.logFile)}`)
    }
    await pause(250)
  }
}

/** Starts a raw kad-dht node (server on a public site, client behind NAT) and waits for its control API. */
export async function startRawNode(lab: Lab, name: string, timeoutMs = 60_000): Promise<RawNode> {
  const node = lab.node(name)
  const proc = lab.spawn(name, {
    args: [
      KAD_NODE,
      String(KAD_P2P_PORT),
      String(KAD_CONTROL_PORT),
      node.site.nat ? '-' : node.address,
      node.site.nat ? 'client' : 'server'
    ],
    name: 'kad-node',
    env: cleanEnv()
  })
  const call = <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> =>
    json<T>(lab, name, KAD_CONTROL_PORT, method, path, {}, body)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!proc.running) throw new Error(`raw kad-dht node ${name} exited; log: ${tail(proc.logFile)}`)
    const info = await call<{ peerId?: string; addr?: string }>('GET', '/info').catch(() => undefined)
    if (info?.status === 200 && info.body.peerId != null) {
      return { name, addr: info.body.addr ?? '', process: proc, call }
    }
    if (Date.now() > deadline) {
      await proc.kill9()
      throw new Error(`raw kad-dht node ${name} did not start; log: ${tail(proc.logFile)}`)
    }
    await pause(250)
  }
}

function readInfo(dataDir: string): { pid: number; peerId: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as { pid: number; peerId: string }
  } catch {
    return undefined
  }
}

function tail(path: string, lines = 15): string {
  try {
    return `\n${readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`
  } catch {
    return '(no log)'
  }
}
