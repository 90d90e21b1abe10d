/**
 * Agents as separate processes inside the network lab's namespaces (@chorus/netlab): each listens
 * on every interface of its namespace (port 4001), a node of a public site announces its lab name
 * (`/dns4/<node>.lab/tcp/4001`, as a multi-host team announces DNS names), and the test talks to
 * its API on the namespace's loopback through the lab's forwarder.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Lab, LabProcess } from '@chorus/netlab'
import { BIN_PATH } from '../src/demo/agents.js'
import { readAgentInfo, TOKEN_FILE } from '../src/util/files.js'
import { sleep } from './helpers.js'

export const LAB_P2P_PORT = 4001
export const LAB_API_PORT = 7700

export interface LabAgent {
  /** The lab node (and agent) name. */
  name: string
  peerId: string
  dataDir: string
  process: LabProcess
  /** Where other agents bootstrap from (public sites only: a NATed agent is not dialable). */
  dialAddress: string
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown
  ): Promise<{ status: number; body: T }>
}

export interface LabAgentOptions {
  dataDir: string
  role: string
  bootstrap: string[]
  env?: Record<string, string>
  timeoutMs?: number
}

/** Starts `chorus-node start` in the node's namespace and waits until its API answers /readyz. */
export async function startLabAgent(lab: Lab, name: string, options: LabAgentOptions): Promise<LabAgent> {
  const node = lab.node(name)
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
  const announce = node.site.nat ? '' : `/dns4/${node.host}/tcp/${LAB_P2P_PORT}`
  const proc = lab.spawn(name, {
    args: [BIN_PATH, 'start'],
    name: 'agent',
    env: {
      ...env,
      ...labEnv({
        CHORUS_ROLE: options.role,
        CHORUS_DATA_DIR: options.dataDir,
        CHORUS_API_PORT: String(LAB_API_PORT),
        CHORUS_LISTEN: `/ip4/0.0.0.0/tcp/${LAB_P2P_PORT}`,
        ...(announce !== '' ? { CHORUS_ANNOUNCE: announce } : {}),
        CHORUS_BOOTSTRAP_PEERS: options.bootstrap.join(','),
        ...options.env
      })
    }
  })
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const token = readFileSync(join(options.dataDir, TOKEN_FILE), 'utf8').trim()
    const res = await lab.request(name, LAB_API_PORT, {
      method,
      path,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {})
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
    return { status: res.status, body: (res.body === '' ? {} : JSON.parse(res.body)) as T }
  }
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  let lastError = ''
  for (;;) {
    if (!proc.running)
      throw new Error(`lab agent ${name} exited during start-up; log: ${tailOf(proc.logFile)}`)
    const info = readAgentInfo(options.dataDir)
    if (info !== undefined && info.pid === proc.pid) {
      const ready = await lab
        .request(name, LAB_API_PORT, { method: 'GET', path: '/readyz', timeoutMs: 5_000 })
        .then(
          (r) => {
            lastError = `readyz ${r.status}`
            return r.status === 200
          },
          (err: unknown) => {
            lastError = String(err)
            return false
          }
        )
      if (ready) {
        return {
          name,
          peerId: info.peerId,
          dataDir: options.dataDir,
          process: proc,
          dialAddress: `/dns4/${node.host}/tcp/${LAB_P2P_PORT}/p2p/${info.peerId}`,
          api
        }
      }
    }
    if (Date.now() > deadline) {
      await proc.kill9()
      throw new Error(`lab agent ${name} not ready in time (${lastError}); log: ${tailOf(proc.logFile)}`)
    }
    await sleep(200)
  }
}

/**
 * Settings for a dozen agents on a loaded 2-core machine: background rounds a few times slower
 * than the loopback tests' `fastEnv`, so that the agents' own work leaves room for the test's.
 */
export function labEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CHORUS_JOIN_STAGGER_MS: '500',
    CHORUS_LOG_LEVEL: 'info',
    CHORUS_REPLICATION_REPAIR_INTERVAL: '5000',
    CHORUS_HYBRID_PROBE_INTERVAL: '3000',
    CHORUS_DHT_DISCOVERY_INTERVAL: '5000',
    CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '3000',
    CHORUS_SHUTDOWN_TIMEOUT_MS: '10000',
    ...extra
  }
}

function tailOf(path: string, lines = 20): string {
  try {
    return `\n${readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`
  } catch {
    return '(no log)'
  }
}

/** What the lab tests read of `/v1/status`. */
export interface LabStatus {
  network: {
    connectedPeers: number
    dht: {
      mode: 'client' | 'server'
      routingTableSize: number
      reachability?: {
        status: string
        relayedConnections: number
        directUpgrades: number
        relayAddresses: number
        relayReservations: number
        relays: string[]
      }
    }
  }
}
