/**
 * Agent processes inside the lab's namespaces: `chorus-node start` listening on every interface
 * of its namespace (port 4001); a node of a public site announces its lab name
 * (`/dns4/<node>.lab/tcp/4001`), a NATed one announces nothing (it is found through its relay).
 * The API listens on the namespace's loopback and is reached through the lab's forwarder.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Lab, LabProcess } from '@chorus/netlab'
import { type AgentSlot, CHORUS_NODE_BIN, cleanEnv } from '../loopback/agents.js'

export const LAB_P2P_PORT = 4001
export const LAB_API_PORT = 7700

/** What an agent writes to `<dataDir>/agent.json`. */
interface AgentInfo {
  pid: number
  peerId: string
}

function readInfo(dataDir: string): AgentInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as AgentInfo
  } catch {
    return undefined
  }
}

export interface StartedLabAgent {
  process: LabProcess
  peerId: string
  token: string
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Starts the slot's agent in its lab node; resolves once its API answers /readyz. */
export async function startLabAgent(
  lab: Lab,
  slot: AgentSlot,
  env: Record<string, string>,
  logFile: string,
  timeoutMs = 120_000
): Promise<StartedLabAgent> {
  const node = lab.node(slot.name)
  const announce: Record<string, string> = node.site.nat
    ? {}
    : { CHORUS_ANNOUNCE: `/dns4/${node.host}/tcp/${LAB_P2P_PORT}` }
  const proc = lab.spawn(slot.name, {
    args: [CHORUS_NODE_BIN, 'start'],
    logFile,
    env: {
      ...cleanEnv(),
      ...env,
      ...announce,
      CHORUS_DATA_DIR: slot.dataDir,
      CHORUS_API_PORT: String(LAB_API_PORT),
      CHORUS_LISTEN: `/ip4/0.0.0.0/tcp/${LAB_P2P_PORT}`
    }
  })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!proc.running) throw new Error(`lab agent ${slot.name} exited during start-up; see ${logFile}`)
    const info = readInfo(slot.dataDir)
    if (info !== undefined && info.pid === proc.pid) {
      const ready = await lab
        .request(slot.name, LAB_API_PORT, { method: 'GET', path: '/readyz', timeoutMs: 5_000 })
        .then(
          (r) => r.status === 200,
          () => false
        )
      if (ready)
        return {
          process: proc,
          peerId: info.peerId,
          token: readFileSync(join(slot.dataDir, 'api-token'), 'utf8').trim()
        }
    }
    if (Date.now() > deadline) {
      await proc.kill9()
      throw new Error(`lab agent ${slot.name} not ready within ${timeoutMs} ms; see ${logFile}`)
    }
    await pause(200)
  }
}

/** The address other agents bootstrap from (public nodes only). */
export const labDialAddress = (lab: Lab, name: string, peerId: string): string =>
  `/dns4/${lab.node(name).host}/tcp/${LAB_P2P_PORT}/p2p/${peerId}`
