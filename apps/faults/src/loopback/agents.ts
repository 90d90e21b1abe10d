/**
 * Real `chorus-node start` processes on 127.0.0.1, one team provisioned with the agent's own CLI
 * (`team init`, `team admit --with-role-keys`), each agent on fixed ports so that a restarted one
 * is found where it was. A wipe deletes the whole data directory and puts back only what an
 * operator provisions a replacement disk with: the node key, the team files and the role key.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The agent's executable, next to @chorus/node's entry point. */
export const CHORUS_NODE_BIN = join(
  dirname(fileURLToPath(import.meta.resolve('@chorus/node'))),
  'bin',
  'chorus-node.js'
)

/** Every agent process started here and still running: killed if this process exits. */
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL')
})

/** What an agent writes to `<dataDir>/agent.json`. */
interface AgentInfo {
  url: string
  pid: number
  peerId: string
  multiaddrs: string[]
}

export interface AgentSlot {
  index: number
  name: string
  dataDir: string
  /** The provisioned files (node key, team files, role key) a wipe restores. */
  provisionDir: string
  port: number
  apiPort: number
  gid: number
  child?: ChildProcess
  info?: AgentInfo
  token?: string
  incarnation: number
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() =>
        a !== null && typeof a === 'object' ? resolve(a.port) : reject(new Error('no free port'))
      )
    })
  })
}

const PROVISIONED = ['keys', 'libp2p', 'team']

/** A team of `n` members, all of role `role`, each with a data directory under `root`. */
export async function provisionTeam(
  root: string,
  n: number,
  role: string,
  gidBase: number
): Promise<AgentSlot[]> {
  const cli = (...args: string[]) =>
    run(process.execPath, [CHORUS_NODE_BIN, ...args], { env: cleanEnv(), timeout: 120_000 })
  const teamDir = join(root, 'team-admin')
  await cli('team', 'init', '--dir', teamDir, '--json')
  const shares = [1, 2, 3].map((k) => join(teamDir, 'shares', `share-${k}.txt`))
  const slots: AgentSlot[] = []
  for (let i = 0; i < n; i++) {
    const name = `n${i}`
    const dataDir = join(root, name)
    await cli(
      'team',
      'admit',
      '--dir',
      teamDir,
      ...shares.flatMap((s) => ['--share', s]),
      '--agent',
      name,
      '--roles',
      role,
      '--member',
      dataDir,
      '--with-role-keys',
      '--json'
    )
    const provisionDir = join(root, 'provision', name)
    mkdirSync(provisionDir, { recursive: true })
    for (const d of PROVISIONED)
      if (existsSync(join(dataDir, d))) cpSync(join(dataDir, d), join(provisionDir, d), { recursive: true })
    slots.push({
      index: i,
      name,
      dataDir,
      provisionDir,
      port: await freePort(),
      apiPort: await freePort(),
      gid: gidBase + i,
      incarnation: 0
    })
  }
  return slots
}

/** The environment without the caller's CHORUS_* settings. */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
  return env
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Start the slot's agent; resolves once its API answers /readyz. */
export async function startAgent(
  slot: AgentSlot,
  env: Record<string, string>,
  timeoutMs = 120_000
): Promise<void> {
  const logFile = join(dirname(slot.dataDir), `${slot.name}.log`)
  const fd = openSync(logFile, 'a')
  const child = spawn(process.execPath, [CHORUS_NODE_BIN, 'start'], {
    env: { ...cleanEnv(), ...env, CHORUS_DATA_DIR: slot.dataDir },
    stdio: ['ignore', fd, fd],
    gid: slot.gid
  })
  closeSync(fd)
  live.add(child)
  let exited = false
  child.once('exit', () => {
    exited = true
    live.delete(child)
  })
  slot.child = child
  slot.incarnation++
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (exited) throw new Error(`agent ${slot.name} exited during start-up; see ${logFile}`)
    const info = readInfo(slot.dataDir)
    if (info !== undefined && info.pid === child.pid) {
      const ready = await fetch(`${info.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.ok,
        () => false
      )
      if (ready) {
        slot.info = info
        slot.token = readFileSync(join(slot.dataDir, 'api-token'), 'utf8').trim()
        return
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`agent ${slot.name} not ready within ${timeoutMs} ms; see ${logFile}`)
    }
    await pause(200)
  }
}

function readInfo(dataDir: string): AgentInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as AgentInfo
  } catch {
    return undefined
  }
}

/** Send `signal` to the slot's agent and wait until it is gone (SIGKILL after `graceMs`). */
export async function stopAgent(
  slot: AgentSlot,
  signal: NodeJS.Signals = 'SIGKILL',
  graceMs = 15_000
): Promise<void> {
  const child = slot.child
  slot.child = undefined
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await gone
  clearTimeout(timer)
}

/** Delete the data directory and restore the provisioned files (the agent must be stopped). */
export function wipeDataDir(slot: AgentSlot): void {
  rmSync(slot.dataDir, { recursive: true, force: true })
  mkdirSync(slot.dataDir, { recursive: true, mode: 0o700 })
  for (const d of PROVISIONED)
    if (existsSync(join(slot.provisionDir, d)))
      cpSync(join(slot.provisionDir, d), join(slot.dataDir, d), { recursive: true })
}

/** The multiaddr others bootstrap from. */
export function dialAddress(slot: AgentSlot): string | undefined {
  if (slot.info === undefined) return undefined
  return `/ip4/127.0.0.1/tcp/${slot.port}/p2p/${slot.info.peerId}`
}
