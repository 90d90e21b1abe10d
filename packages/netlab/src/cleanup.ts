/**
 * Leftovers: every name the lab makes starts with `nl<pid in base 36>x<n>-`, the pid of the process
 * that made it. A lab made by a process that is gone (killed before it could clean up) is removed
 * when the next lab starts; a lab's own process removes its lab on exit and on SIGINT/SIGTERM.
 */
import { readdirSync, rmSync } from 'node:fs'
import { runQuietSync } from './command.js'

const NAME = /^nl([0-9a-z]+)x\d+-/

/** The prefix of a new lab of this process. */
export function labPrefix(n: number): string {
  return `nl${process.pid.toString(36)}x${n}`
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The lab namespaces that exist now (names only). */
export function labNamespaces(): string[] {
  return runQuietSync('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter((n) => NAME.test(n))
}

/** Kills every process in the namespace (by pid) and deletes it with its /etc/netns files. */
export function removeNamespaceSync(ns: string): void {
  for (const pid of runQuietSync('ip', ['netns', 'pids', ns]).split('\n')) {
    const n = Number(pid.trim())
    if (n > 0) {
      try {
        process.kill(n, 'SIGKILL')
      } catch {
        // gone already
      }
    }
  }
  runQuietSync('ip', ['netns', 'delete', ns])
  rmSync(`/etc/netns/${ns}`, { recursive: true, force: true })
}

/** Removes the namespaces of labs whose process is gone. Returns how many were removed. */
export function removeLeftovers(): number {
  let removed = 0
  for (const ns of labNamespaces()) {
    const pid = Number.parseInt(NAME.exec(ns)?.[1] ?? '', 36)
    if (pid > 0 && pid !== process.pid && !alive(pid)) {
      removeNamespaceSync(ns)
      removed++
    }
  }
  let dirs: string[] = []
  try {
    dirs = readdirSync('/etc/netns')
  } catch {
    return removed
  }
  for (const d of dirs) {
    const pid = Number.parseInt(NAME.exec(d)?.[1] ?? '', 36)
    if (pid > 0 && pid !== process.pid && !alive(pid))
      rmSync(`/etc/netns/${d}`, { recursive: true, force: true })
  }
  return removed
}

/** Destroy hooks of the labs alive in this process, run on exit and on SIGINT/SIGTERM. */
const live = new Set<() => void>()
let hooked = false

export function onProcessExit(destroySync: () => void): () => void {
  live.add(destroySync)
  if (!hooked) {
    hooked = true
    process.on('exit', () => {
      for (const d of live) d()
    })
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        for (const d of live) d()
        process.kill(process.pid, signal)
      })
    }
  }
  return () => live.delete(destroySync)
}
