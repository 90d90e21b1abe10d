// Drives fixtures/node.mjs child processes: start, request/response over JSON lines, kill -9.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./fixtures/node.mjs', import.meta.url))

export interface NodeProc {
  peerId: string
  multiaddrs: string[]
  child: ChildProcess
  call<T = Record<string, unknown>>(
    op: string,
    args?: Record<string, unknown>,
    timeoutMs?: number
  ): Promise<T>
  kill9(): Promise<void>
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      srv.close(() => (a != null && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

export async function startNodeProc(env: Record<string, string>, logFile?: string): Promise<NodeProc> {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let log: WriteStream | undefined
  if (logFile != null) {
    log = createWriteStream(logFile, { flags: 'a' })
    child.stderr!.pipe(log)
  } else child.stderr!.resume()
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>()
  let nextId = 1
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true
      for (const p of pending.values()) p.reject(new Error('node process exited'))
      pending.clear()
      resolve()
    })
  )
  const ready = new Promise<{ peerId: string; multiaddrs: string[] }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('node process not ready after 60 s')), 60_000)
    child.on('exit', (code) => reject(new Error(`node process exited with ${code} before ready`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log?.write(`${line}\n`)
      let m: { event?: string; id?: number; ok?: boolean; error?: { message: string } } & Record<
        string,
        never
      >
      try {
        m = JSON.parse(line)
      } catch {
        return
      }
      if (m.event === 'ready') {
        clearTimeout(t)
        resolve(m as never)
        return
      }
      if (m.id != null) {
        const p = pending.get(m.id)
        pending.delete(m.id)
        if (p == null) return
        if (m.ok === true) p.resolve(m as never)
        else p.reject(Object.assign(new Error(m.error?.message ?? 'failed'), m.error))
      }
    })
  })
  const info = await ready
  return {
    ...info,
    child,
    call(op, args = {}, timeoutMs = 60_000) {
      if (exited) return Promise.reject(new Error('node process exited'))
      const id = nextId++
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${op} timed out after ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(t)
            resolve(v)
          },
          reject: (e) => {
            clearTimeout(t)
            reject(e)
          }
        })
        child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`)
      })
    },
    async kill9() {
      if (!exited) child.kill('SIGKILL')
      await exit
      log?.end()
    },
    async stop() {
      if (!exited) {
        child.stdin!.end()
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exit
        clearTimeout(t)
      }
      log?.end()
    }
  }
}
