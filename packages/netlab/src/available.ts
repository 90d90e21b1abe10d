/** Whether the lab can run here: root, `ip` and `iptables`. */
import { execFileSync } from 'node:child_process'

/** Undefined when the lab can run, else why not (for a test's skip message). */
export function labUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'the network lab needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the network lab needs root (network namespaces, iptables)'
  for (const [cmd, args] of [
    ['ip', ['-V']],
    ['iptables', ['--version']]
  ] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'ignore' })
    } catch {
      return `the network lab needs \`${cmd}\` (Debian packages iproute2 and iptables; ./dev.sh test installs iptables)`
    }
  }
  return undefined
}
