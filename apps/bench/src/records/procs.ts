/**
 * The records bench's processes: agent processes (`chorus-node start`), forked worker scripts
 * (raw kad-dht nodes, the library writer), the team they share, and what the OS says of them (RSS,
 * bytes on their TCP sockets). Every child is registered the moment it is spawned and killed by its
 * pid when the bench exits, fails or is interrupted.
 */
import { type ChildProcess, execFile, fork, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Every child alive, killed by pid on exit. */
const children = new Set<ChildProcess>()

function killAll(): void {
  for (const c of children) {
    if (c.exitCode == null && c.signalCode == null && c.pid != null) {
      try {
        process.kill(c.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  children.clear()
}

let hooked = false
/** Kill every child on exit; on SIGINT/SIGTERM run `cleanup` (directories) first, then exit. */
export function killChildrenOnExit(cleanup: () => void): void {
  if (hooked) return
  hooked = true
  process.on('exit', () => {
    killAll()
    cleanup()
  })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll()
      cleanup()
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1))
    })
  }
}

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** The chorus-node executable of the installed @chorus/node. */
export function chorusNodeBin(): string {
  const main = fileURLToPath(import.meta.resolve('@chorus/node'))
  return join(dirname(main), 'bin', 'chorus-node.js')
}

/** The environment without CHORUS_* (each child gets only the settings given to it). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
  return env
}

/** Runs `chorus-node <args>` to completion; rejects with its output on a non-zero exit. */
export function runChorusCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [chorusNodeBin(), ...args],
      { env: cleanEnv(), timeout: 120_000, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        if (err != null)
          reject(new Error(`chorus-node ${args.slice(0, 2).join(' ')} failed: ${stderr || err.message}`))
        else resolve(stdout)
      }
    )
  })
}

/**
 * A real team in `root/team-admin` (root key in 3-of-5 shares, one key per role) and one admitted
 * member per agent id, all `backend_developer` (so every node can open every record), each member's
 * team files and role identity written to `root/<id>`.
 */
export async function makeTeam(root: string, agentIds: string[], role: string): Promise<void> {
  const teamDir = join(root, 'team-admin')
  const made = JSON.parse(
    await runChorusCli(['team', 'init', '--dir', teamDir, '--shares', '5', '--threshold', '3', '--json'])
  ) as { shareFiles: string[] }
  const shares = made.shareFiles.slice(0, 3).flatMap((f) => ['--share', f])
  for (const id of agentIds) {
    await runChorusCli([
      'team',
      'admit',
      '--dir',
      teamDir,
      ...shares,
      '--agent',
      id,
      '--roles',
      role,
      '--member',
      join(root, id),
      '--with-role-keys',
      '--json'
    ])
  }
}

/** What `chorus-node start` writes to `<dataDir>/agent.json`. */
export interface AgentInfo {
  url: string
  pid: number
  peerId: string
  multiaddrs: string[]
}

/** One agent process. */
export interface AgentProc {
  name: string
  dataDir: string
  child: ChildProcess
  info: AgentInfo
  token: string
  /** Milliseconds from spawn until `/v1/status` said ready. */
  readyMs: number
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown
  ): Promise<{ status: number; body: T }>
  stop(graceMs?: number): Promise<void>
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Starts `chorus-node start` on `dataDir` and waits until its `/v1/status` says ready. */
export async function startAgent(
  name: string,
  dataDir: string,
  env: Record<string, string>,
  timeoutMs = 180_000
): Promise<AgentProc> {
  const logFile = join(dataDir, '..', `${name}.log`)
  const fd = openSync(logFile, 'a')
  const t0 = performance.now()
  const child = track(
    spawn(process.execPath, [chorusNodeBin(), 'start'], {
      env: { ...cleanEnv(), ...env, CHORUS_DATA_DIR: dataDir },
      stdio: ['ignore', fd, fd]
    })
  )
  closeSync(fd)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode != null || child.signalCode != null)
      throw new Error(`agent ${name} exited during start-up; log: ${tail(logFile)}`)
    const info = readInfo(dataDir)
    if (info != null && info.pid === child.pid) {
      const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim()
      const status = await fetch(`${info.url}/v1/status`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000)
      }).then(
        async (r) => (r.ok ? ((await r.json()) as { ready?: unknown }) : undefined),
        () => undefined
      )
      if (status?.ready === true) return agentProc(name, dataDir, child, info, token, performance.now() - t0)
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`agent ${name} not ready within ${timeoutMs} ms; log: ${tail(logFile)}`)
    }
    await pause(25)
  }
}

function readInfo(dataDir: string): AgentInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as AgentInfo
  } catch {
    return undefined
  }
}

function agentProc(
  name: string,
  dataDir: string,
  child: ChildProcess,
  info: AgentInfo,
  token: string,
  readyMs: number
): AgentProc {
  return {
    name,
    dataDir,
    child,
    info,
    token,
    readyMs,
    async api<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${info.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {})
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(120_000)
      })
      const text = await res.text()
      let parsed: unknown = {}
      try {
        parsed = text === '' ? {} : JSON.parse(text)
      } catch {
        parsed = { text: text.slice(0, 200) }
      }
      return { status: res.status, body: parsed as T }
    },
    stop: (graceMs = 20_000) => stopChild(child, graceMs)
  }
}

/** SIGTERM, SIGKILL after `graceMs`; resolves once the process is gone. */
export function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode != null || child.signalCode != null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** The multiaddr others bootstrap from (TCP, with /p2p/). */
export function dialAddress(info: AgentInfo): string {
  const addr = info.multiaddrs.find((m) => m.includes('/tcp/')) ?? info.multiaddrs[0]
  if (addr == null) throw new Error(`agent ${info.peerId} has no listen address`)
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${info.peerId}`
}

function tail(path: string, lines = 12): string {
  if (!existsSync(path)) return '(no log)'
  return `\n${readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`
}

/** A forked worker script driven over IPC: request `{ id, op, ... }`, reply `{ id, ok, result | error }`. */
export interface Worker {
  child: ChildProcess
  call<T = unknown>(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>
  stop(): Promise<void>
}

export function forkWorker(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  nodeFlags: readonly string[] = []
): Worker {
  const child = track(
    fork(script, args, {
      env: { ...cleanEnv(), ...env },
      execArgv: [...nodeFlags, ...process.execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
  )
  let next = 1
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const p = pending.get(m.id)
    if (p == null) return
    pending.delete(m.id)
    if (m.ok) p.resolve(m.result)
    else p.reject(new Error(m.error ?? 'worker failed'))
  })
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`worker exited (${code})`))
    pending.clear()
  })
  return {
    child,
    call<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 3_600_000): Promise<T> {
      const id = next++
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`worker ${op} timed out after ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer)
            resolve(v as T)
          },
          reject: (e) => {
            clearTimeout(timer)
            reject(e)
          }
        })
        child.send({ id, op, ...args })
      })
    },
    async stop() {
      if (child.connected) child.send({ id: 0, op: 'stop' })
      await stopChild(child, 15_000)
    }
  }
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS), NaN when unreadable. */
export function rssOf(pid: number | undefined): number {
  if (pid == null) return Number.NaN
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m == null ? Number.NaN : Number(m[1]) * 1024
  } catch {
    return Number.NaN
  }
}

/** Bytes received and sent on one TCP socket, named by its local and remote address. */
export interface SocketBytes {
  socket: string
  received: number
  sent: number
}

/**
 * The open TCP sockets of the given processes (`ss -tinp`) with their bytes so far, by pid. Closed
 * sockets are gone from it: a caller that samples over time keeps each socket's last figure.
 */
export function socketTable(
  pids: number[],
  /** Local ports not counted (the agents' HTTP API: the bench's own requests). */
  skipLocalPorts: Set<number> = new Set()
): Promise<Map<number, SocketBytes[]>> {
  return new Promise((resolve) => {
    execFile('ss', ['-tinpH'], { maxBuffer: 64 << 20, timeout: 20_000 }, (err, stdout) => {
      const out = new Map<number, SocketBytes[]>()
      if (err != null) return resolve(out)
      const wanted = new Set(pids)
      // each socket is a line with users:((...pid=N...)) followed by an indented info line
      let owner: number | undefined
      let socket = ''
      for (const line of stdout.split('\n')) {
        const m = /pid=(\d+)/.exec(line)
        if (m != null) {
          const addrs = /^\S+\s+\d+\s+\d+\s+(\S+):(\d+)\s+(\S+)\s/.exec(line)
          owner = addrs != null && skipLocalPorts.has(Number(addrs[2])) ? undefined : Number(m[1])
          socket = addrs == null ? line : `${addrs[1]}:${addrs[2]} ${addrs[3]}`
          if (!/bytes_received/.test(line)) continue
        }
        if (owner == null || !wanted.has(owner)) continue
        const rec = /bytes_received:(\d+)/.exec(line)
        const sent = /bytes_acked:(\d+)/.exec(line) ?? /bytes_sent:(\d+)/.exec(line)
        if (rec == null && sent == null) continue
        const list = out.get(owner) ?? []
        list.push({ socket, received: Number(rec?.[1] ?? 0), sent: Number(sent?.[1] ?? 0) })
        out.set(owner, list)
        owner = undefined
      }
      resolve(out)
    })
  })
}

/**
 * Bytes received and sent on the open TCP sockets of the given processes, by pid. Counts every
 * protocol on those sockets and forgets closed ones: an approximation, said so.
 */
export async function socketBytes(
  pids: number[],
  skipLocalPorts: Set<number> = new Set()
): Promise<Map<number, { received: number; sent: number }>> {
  const out = new Map<number, { received: number; sent: number }>()
  for (const [pid, sockets] of await socketTable(pids, skipLocalPorts)) {
    out.set(pid, {
      received: sockets.reduce((s, x) => s + x.received, 0),
      sent: sockets.reduce((s, x) => s + x.sent, 0)
    })
  }
  return out
}

/** The local port of an agent's HTTP API (from its URL). */
export function apiPort(info: AgentInfo): number {
  return Number(new URL(info.url).port)
}
