/**
 * Processes inside the lab's namespaces (`ip netns exec`, which execs the command: the child's
 * pid is the process's own), killed by pid, and HTTP to their loopback through a Unix-socket
 * forwarder (forwarder.ts) started in the same namespace.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, existsSync, openSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NETLAB_ERROR_CODES, NetlabError } from './errors.js'
import type { LabNode } from './lab.js'

export interface SpawnOptions {
  /** The executable (default: this Node.js) and its arguments. */
  command?: string
  args: string[]
  /** The whole environment of the process (nothing is inherited unless given). */
  env?: Record<string, string>
  /** A file that receives stdout and stderr. Default: `<node dir>/<name>.log`. */
  logFile?: string
  /** A name for the log file. Default: `process`. */
  name?: string
}

export interface LabProcess {
  readonly pid: number
  readonly node: string
  readonly logFile: string
  readonly child: ChildProcess
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals>
  readonly running: boolean
  /** SIGKILL (kill -9). */
  kill9(): Promise<void>
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals>
}

/** The forwarder next to this module: built (dist), or its source when this runs from src (Node strips the types). */
const FORWARDER = [
  fileURLToPath(new URL('./forwarder.js', import.meta.url)),
  fileURLToPath(new URL('../dist/forwarder.js', import.meta.url)),
  fileURLToPath(new URL('./forwarder.ts', import.meta.url))
].find((p) => existsSync(p)) as string

export class LabProcesses {
  readonly #live = new Set<ChildProcess>()
  /** `<node>:<port>` -> the forwarder's socket path. */
  readonly #forwarders = new Map<string, Promise<string>>()

  spawn(node: LabNode, options: SpawnOptions): LabProcess {
    const logFile = options.logFile ?? join(node.dir, `${options.name ?? 'process'}.log`)
    const fd = openSync(logFile, 'a')
    const child = spawn(
      'ip',
      ['netns', 'exec', node.ns, options.command ?? process.execPath, ...options.args],
      {
        env: options.env ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', fd, fd]
      }
    )
    closeSync(fd)
    if (child.pid === undefined) {
      throw new NetlabError('cannot start a process in the lab', { code: NETLAB_ERROR_CODES.COMMAND })
    }
    this.#live.add(child)
    let done = false
    const exited = new Promise<number | NodeJS.Signals>((resolve) => {
      child.once('exit', (code, signal) => {
        done = true
        this.#live.delete(child)
        resolve(code ?? signal ?? -1)
      })
    })
    const pid = child.pid
    return {
      pid,
      node: node.name,
      logFile,
      child,
      exited,
      get running() {
        return !done
      },
      async kill9() {
        if (done) return
        child.kill('SIGKILL')
        await exited
      },
      async stop(graceMs = 15_000) {
        if (done) return exited
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        const code = await exited
        clearTimeout(timer)
        return code
      }
    }
  }

  /** The forwarder to `127.0.0.1:<port>` in the node's namespace, started once. */
  #forwarder(node: LabNode, port: number): Promise<string> {
    const key = `${node.name}:${port}`
    let ready = this.#forwarders.get(key)
    if (ready == null) {
      ready = this.#startForwarder(node, port)
      this.#forwarders.set(key, ready)
      ready.catch(() => this.#forwarders.delete(key))
    }
    return ready
  }

  async #startForwarder(node: LabNode, port: number): Promise<string> {
    const socket = join(node.dir, `http-${port}.sock`)
    const p = this.spawn(node, { args: [FORWARDER, socket, String(port)], name: `forwarder-${port}` })
    const deadline = Date.now() + 15_000
    while (!existsSync(socket)) {
      if (!p.running || Date.now() > deadline) {
        await p.kill9()
        throw new NetlabError('the HTTP forwarder did not start', { code: NETLAB_ERROR_CODES.COMMAND })
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    return socket
  }

  async request(
    node: LabNode,
    port: number,
    req: { method: string; path: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }
  ): Promise<{ status: number; body: string }> {
    const socketPath = await this.#forwarder(node, port)
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        {
          socketPath,
          method: req.method,
          path: req.path,
          headers: { host: `127.0.0.1:${port}`, ...req.headers },
          timeout: req.timeoutMs ?? 60_000
        },
        (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d: string) => {
            body += d
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
          res.on('error', reject)
        }
      )
      r.on('timeout', () => r.destroy(new Error('request timed out')))
      r.on('error', reject)
      if (req.body !== undefined) r.write(req.body)
      r.end()
    })
  }

  async killAll(): Promise<void> {
    const waits = [...this.#live].map((c) => new Promise<void>((resolve) => c.once('exit', () => resolve())))
    this.killAllSync()
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5_000))])
  }

  killAllSync(): void {
    for (const c of this.#live) c.kill('SIGKILL')
  }
}
