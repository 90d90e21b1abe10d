/**
 * Partitions and packet loss between agent processes that all live on 127.0.0.1. Every packet
 * between them crosses `lo`, where ports alone cannot say which process sent it (one side of each
 * connection is an ephemeral port). So each agent runs with a group id of its own, and the SYN
 * of each connection, which its initiator sends, is matched by owner group and destination port
 * (the acceptor's listen port): the connection gets a mark naming the pair. Drop rules then match
 * the marks of the pairs cut, in both directions, for the life of each connection.
 *
 * The rules live in two chains of this run only (`<name>M` marks, `<name>D` drops), jumped to from
 * OUTPUT for `lo`, and are removed by `close()`.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface LoopbackNode {
  /** Group id the agent process runs with. */
  gid: number
  /** Its libp2p TCP listen port. */
  port: number
}

export interface LoopbackFirewall {
  partition(a: readonly number[], b: readonly number[]): Promise<void>
  heal(): Promise<void>
  setLoss(node: number, p: number): Promise<void>
  close(): Promise<void>
}

/** Whether `iptables` is there and we may change rules (root). */
export async function iptablesAvailable(): Promise<boolean> {
  try {
    await run('iptables', ['-w', '-L', 'OUTPUT', '-n'], { timeout: 10_000 })
    return process.getuid?.() === 0
  } catch {
    return false
  }
}

const mark = (i: number, j: number) => `0x${(0x10000 + i * 256 + j).toString(16)}`

export async function createLoopbackFirewall(
  name: string,
  nodes: readonly LoopbackNode[]
): Promise<LoopbackFirewall> {
  const ipt = (...args: string[]) => run('iptables', ['-w', ...args], { timeout: 20_000 })
  const M = `${name}M`
  const D = `${name}D`
  await ipt('-N', M)
  await ipt('-N', D)
  await ipt('-I', 'OUTPUT', '1', '-o', 'lo', '-j', D)
  await ipt('-I', 'OUTPUT', '1', '-o', 'lo', '-j', M)
  for (const [i, a] of nodes.entries())
    for (const [j, b] of nodes.entries()) {
      if (i === j) continue
      await ipt(
        '-A',
        M,
        '-p',
        'tcp',
        '--syn',
        '-d',
        '127.0.0.1',
        '--dport',
        String(b.port),
        '-m',
        'owner',
        '--gid-owner',
        String(a.gid),
        '-j',
        'CONNMARK',
        '--set-mark',
        mark(i, j)
      )
    }
  let cut: Array<[number, number]> = []
  const loss = new Map<number, number>()

  const rebuild = async (): Promise<void> => {
    await ipt('-F', D)
    for (const [i, j] of cut) {
      await ipt('-A', D, '-m', 'connmark', '--mark', mark(i, j), '-j', 'DROP')
      await ipt('-A', D, '-m', 'connmark', '--mark', mark(j, i), '-j', 'DROP')
    }
    for (const [node, p] of loss)
      for (let j = 0; j < nodes.length; j++) {
        if (j === node) continue
        for (const m of [mark(node, j), mark(j, node)])
          await ipt(
            '-A',
            D,
            '-m',
            'connmark',
            '--mark',
            m,
            '-m',
            'statistic',
            '--mode',
            'random',
            '--probability',
            p.toFixed(4),
            '-j',
            'DROP'
          )
      }
  }

  return {
    async partition(a, b) {
      cut = a.flatMap((i) => b.map((j) => [i, j] as [number, number]))
      await rebuild()
    },
    async heal() {
      cut = []
      await rebuild()
    },
    async setLoss(node, p) {
      if (p <= 0) loss.delete(node)
      else loss.set(node, Math.min(p, 1))
      await rebuild()
    },
    async close() {
      for (const args of [
        ['-D', 'OUTPUT', '-o', 'lo', '-j', M],
        ['-D', 'OUTPUT', '-o', 'lo', '-j', D],
        ['-F', M],
        ['-F', D],
        ['-X', M],
        ['-X', D]
      ])
        await ipt(...args).catch(() => undefined)
    }
  }
}
