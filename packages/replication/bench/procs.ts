/**
 * The churn bench's process cluster: every node is its own OS process (bench/node.ts, forked),
 * driven over IPC, so N libp2p stacks do not share one event loop. Every child is killed by its
 * pid when the controller exits, fails or gets a signal.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const nodeScript = join(dirname(fileURLToPath(import.meta.url)), 'node.ts')

/** Every child process alive, to kill on exit. */
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
/** Installs the exit, error and signal handlers that kill every child (once). */
export function killChildrenOnExit(): void {
  if (hooked) return
  hooked = true
  process.on('exit', killAll)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll()
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1))
    })
  }
  process.on('uncaughtException', (err) => {
    console.error(err)
    killAll()
    process.exit(1)
  })
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: ReturnType<typeof setTimeout>
}

/** One node process. */
export class NodeProc {
  readonly index: number
  readonly dir: string
  peerId = ''
  multiaddrs: string[] = []
  /** Started and answering (false while its process starts). */
  ready = false
  private child: ChildProcess | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  constructor(index: number, dir: string) {
    this.index = index
    this.dir = dir
  }

  get running(): boolean {
    return this.child != null
  }

  /** Forks the process and starts its node, joining through `bootstrap`. */
  async start(
    init: object,
    bootstrap: string[],
    queryTimeout: number,
    requestTimeout: number
  ): Promise<void> {
    const child = fork(
      nodeScript,
      [this.dir, JSON.stringify(init), String(queryTimeout), String(requestTimeout)],
      {
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'inherit', 'ipc']
      }
    )
    children.add(child)
    this.child = child
    this.ready = false
    child.on('exit', (code, signal) => {
      children.delete(child)
      if (this.child === child) {
        this.child = undefined
        this.ready = false
      }
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer)
        p.reject(new Error(`node ${this.index} exited (${code ?? signal}) during a request`))
        this.pending.delete(id)
      }
    })
    child.on('message', (msg: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (msg.id == null) return
      const p = this.pending.get(msg.id)
      if (p == null) return
      this.pending.delete(msg.id)
      clearTimeout(p.timer)
      if (msg.ok) p.resolve(msg.result)
      else p.reject(new Error(`node ${this.index}: ${msg.error}`))
    })
    const r = (await this.request('start', { bootstrap }, 60_000)) as { peerId: string; multiaddrs: string[] }
    this.peerId = r.peerId
    this.multiaddrs = r.multiaddrs
    this.ready = true
  }

  request(op: string, args: object = {}, timeout = 30_000): Promise<unknown> {
    const child = this.child
    if (child == null) return Promise.reject(new Error(`node ${this.index} is not running`))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`node ${this.index}: ${op} timed out after ${timeout} ms`))
      }, timeout)
      this.pending.set(id, { resolve, reject, timer })
      child.send({ id, op, ...args })
    })
  }

  /** Stops the node cleanly (manager, then DHT) and ends the process; SIGKILL when it takes too long. */
  async stop(timeout = 10_000): Promise<void> {
    const child = this.child
    if (child == null) return
    this.ready = false
    const exited = new Promise<void>((r) => {
      if (child.exitCode != null || child.signalCode != null) r()
      else child.once('exit', () => r())
    })
    try {
      await this.request('stop', {}, timeout)
    } catch {
      // killed below
    }
    if (child.connected) child.disconnect()
    const killer = setTimeout(() => {
      if (child.pid != null && child.exitCode == null && child.signalCode == null) {
        try {
          process.kill(child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }, 3_000)
    await exited
    clearTimeout(killer)
    this.child = undefined
  }
}

/** N node processes, each on its own data directory under one temporary root. */
export class ProcCluster {
  readonly root: string
  readonly nodes: NodeProc[] = []

  constructor(size: number) {
    killChildrenOnExit()
    this.root = mkdtempSync(join(tmpdir(), 'chorus-replication-bench-'))
    for (let i = 0; i < size; i++) {
      const dir = join(this.root, `node-${i}`)
      mkdirSync(dir, { recursive: true })
      this.nodes.push(new NodeProc(i, dir))
    }
  }

  /** Nodes whose process runs (started or starting). */
  running(): NodeProc[] {
    return this.nodes.filter((n) => n.running)
  }

  /** Nodes started and answering. */
  ready(): NodeProc[] {
    return this.nodes.filter((n) => n.ready)
  }

  /** Stops every node and removes the data directories. */
  async destroy(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop(5_000)))
    killAll()
    rmSync(this.root, { recursive: true, force: true })
  }
}
