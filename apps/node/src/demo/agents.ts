import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pause } from '@chorus/common'
import { type AgentInfo, readAgentInfo, TOKEN_FILE } from '../util/files.js'

/** The chorus-node executable next to this module (dist/bin/chorus-node.js). */
export const BIN_PATH = [
  fileURLToPath(new URL('../bin/chorus-node.js', import.meta.url)),
  // when this module runs from src/ (tests), the built executable is in dist/
  fileURLToPath(new URL('../../dist/bin/chorus-node.js', import.meta.url))
].find((p) => existsSync(p)) as string

/** One agent process started with `chorus-node start`. */
export interface AgentProcess {
  name: string
  dataDir: string
  child: ChildProcess
  info: AgentInfo
  token: string
  logFile: string
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | NodeJS.Signals>
  /** Call the agent's API; resolves with the HTTP status and parsed JSON body. */
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown
  ): Promise<{ status: number; body: T }>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals>
}

export interface StartAgentOptions {
  name: string
  dataDir: string
  /** `CHORUS_*` settings for the agent. */
  env: Record<string, string>
  /** Extra command-line arguments after `start`. */
  args?: string[]
  /** How long to wait for the agent to write agent.json and answer. Default 90 s (a loaded machine). */
  timeoutMs?: number
}

/** Every agent process started here and not yet exited, from the moment it is spawned. */
export const liveAgents = new Set<ChildProcess>()

/** SIGTERM every live agent process (SIGKILL after `graceMs`) and wait until they are gone. */
export async function stopLiveAgents(graceMs = 15_000): Promise<void> {
  await Promise.all(
    [...liveAgents].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
          child.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGTERM')
        })
    )
  )
}

/** Start `chorus-node start` as a child process and wait until its API answers /readyz. */
export async function startAgentProcess(options: StartAgentOptions): Promise<AgentProcess> {
  const logFile = join(options.dataDir, '..', `${options.name}.log`)
  const fd = openSync(logFile, 'a')
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
  const child = spawn(process.execPath, [BIN_PATH, 'start', ...(options.args ?? [])], {
    env: { ...env, ...options.env, CHORUS_DATA_DIR: options.dataDir },
    stdio: ['ignore', fd, fd]
  })
  closeSync(fd)
  liveAgents.add(child)
  child.once('exit', () => liveAgents.delete(child))
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))
  })
  let exitCode: number | NodeJS.Signals | undefined
  void exited.then((c) => {
    exitCode = c
  })

  const deadline = Date.now() + (options.timeoutMs ?? 90_000)
  let info: AgentInfo | undefined
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`agent ${options.name} exited (${exitCode}) during start-up; log: ${tail(logFile)}`)
    }
    info = readAgentInfo(options.dataDir)
    if (info !== undefined && info.pid === child.pid) {
      const ready = await fetch(`${info.url}/readyz`).then(
        (r) => r.ok,
        () => false
      )
      if (ready) break
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(
        `agent ${options.name} not ready within ${options.timeoutMs ?? 90_000} ms; log: ${tail(logFile)}`
      )
    }
    await pause(100)
  }
  const token = readFileSync(join(options.dataDir, TOKEN_FILE), 'utf8').trim()
  const a: AgentProcess = {
    name: options.name,
    dataDir: options.dataDir,
    child,
    info,
    token,
    logFile,
    exited,
    async api<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(`${info.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {})
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000)
      })
      const text = await res.text()
      return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as T }
    },
    async stop(graceMs = 15_000) {
      if (exitCode !== undefined) return exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
  return a
}

/** The last lines of a log file, for error messages. */
export function tail(path: string, lines = 15): string {
  if (!existsSync(path)) return '(no log)'
  return `\n${readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`
}

/** The multiaddr of an agent that others can bootstrap from (with its /p2p/ id). */
export function dialAddress(info: AgentInfo): string {
  const addr = info.multiaddrs.find((m) => m.includes('/tcp/')) ?? info.multiaddrs[0]
  if (addr === undefined) throw new Error(`agent ${info.peerId} has no listen address`)
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${info.peerId}`
}
