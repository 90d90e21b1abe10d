/** Running `ip` and `iptables`: asynchronously while the lab runs, synchronously when the process exits. */
import { execFile, execFileSync } from 'node:child_process'
import { NETLAB_ERROR_CODES, NetlabError } from './errors.js'

/** Runs a command; rejects with `NetlabError` (NETLAB_COMMAND) and its stderr when it fails. */
export function run(cmd: string, args: string[], options: { signal?: AbortSignal } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { signal: options.signal, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err != null) {
        reject(
          new NetlabError(`${cmd} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`, {
            code: NETLAB_ERROR_CODES.COMMAND,
            cause: err
          })
        )
        return
      }
      resolve(String(stdout))
    })
  })
}

/** Runs a command synchronously, ignoring failure (clean-up on exit). */
export function runQuietSync(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString()
  } catch {
    return ''
  }
}

/** `iptables` inside a namespace. The nf_tables variant (Debian's default), the same everywhere. */
export function iptables(ns: string, args: string[]): Promise<string> {
  return run('ip', ['netns', 'exec', ns, 'iptables', '-w', ...args])
}
