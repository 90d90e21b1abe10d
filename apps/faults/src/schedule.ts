/** The seeded fault schedule: a list of timed faults, one at a time, reproducible from its seed. */
import { createRandom } from './prng.js'

export const FAULT_KINDS = ['partition', 'kill', 'loss', 'wipe', 'relay'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** One fault: starts `at` ms after the run's start and lasts `durationMs`. */
export type Fault =
  | { kind: 'partition'; at: number; durationMs: number; sides: [number[], number[]] }
  | { kind: 'kill'; at: number; durationMs: number; node: number }
  | { kind: 'loss'; at: number; durationMs: number; node: number; probability: number }
  | { kind: 'wipe'; at: number; durationMs: number; node: number }
  | { kind: 'relay'; at: number; durationMs: number; node: number }

export interface Schedule {
  seed: number
  nodes: number
  durationMs: number
  faults: Fault[]
}

export interface ScheduleInit {
  seed: number
  /** Nodes in the run (at least 2). */
  nodes: number
  /** Time with faults, ms: no fault starts or lasts beyond it. */
  durationMs: number
  /** Fault kinds to draw from, with weights. Default: every kind, partition and kill twice as often. */
  weights?: Partial<Record<FaultKind, number>>
  /** Shortest and longest fault, ms. Default 4 s and 12 s. */
  minFaultMs?: number
  maxFaultMs?: number
  /** Shortest and longest quiet gap between faults, ms. Default 2 s and 6 s. */
  minGapMs?: number
  maxGapMs?: number
  /**
   * The nodes a `relay` fault can hit (NATed ones, reached through a relay). Default: every node.
   * Drawing is unchanged by it: a relay fault's drawn node picks one of these.
   */
  relayNodes?: readonly number[]
  /** Loss probability range of a loss burst. Default 0.1 to 0.4. */
  minLoss?: number
  maxLoss?: number
}

/**
 * The schedule options of the CI-sized run (`--preset ci`): shorter faults and gaps, and no disk
 * wipe while the finding "a wiped writer restarts its chains at version 1" is open.
 */
export const CI_SCHEDULE = {
  weights: { wipe: 0 },
  minFaultMs: 3_000,
  maxFaultMs: 8_000,
  minGapMs: 1_500,
  maxGapMs: 4_000
} as const satisfies Omit<ScheduleInit, 'seed' | 'nodes' | 'durationMs'>

/**
 * The CI-sized run on the network lab (`--preset ci --target lab`): as `CI_SCHEDULE`, with relay
 * faults drawn as often as partitions and kills (the lab is the only target that has them).
 */
export const LAB_CI_SCHEDULE = {
  ...CI_SCHEDULE,
  weights: { wipe: 0, relay: 2 }
} as const satisfies Omit<ScheduleInit, 'seed' | 'nodes' | 'durationMs'>

const DEFAULT_WEIGHTS: Record<FaultKind, number> = { partition: 2, kill: 2, loss: 1, wipe: 1, relay: 1 }

/** The schedule for `init.seed`: faults one after another, each followed by a quiet gap. */
export function generateSchedule(init: ScheduleInit): Schedule {
  if (!Number.isInteger(init.nodes) || init.nodes < 2)
    throw new RangeError('a fault run needs at least 2 nodes')
  const relayNodes = init.relayNodes ?? []
  if (relayNodes.some((n) => !Number.isInteger(n) || n < 0 || n >= init.nodes))
    throw new RangeError('a relay node is not a node of the run')
  const random = createRandom(init.seed)
  const weights = { ...DEFAULT_WEIGHTS, ...init.weights }
  const kinds = FAULT_KINDS.filter((k) => weights[k] > 0)
  if (kinds.length === 0) throw new RangeError('no fault kind has a positive weight')
  const total = kinds.reduce((s, k) => s + weights[k], 0)
  const drawKind = (): FaultKind => {
    let x = random.next() * total
    for (const k of kinds) {
      x -= weights[k]
      if (x < 0) return k
    }
    return kinds[kinds.length - 1] as FaultKind
  }
  const minFault = init.minFaultMs ?? 4_000
  const maxFault = init.maxFaultMs ?? 12_000
  const minGap = init.minGapMs ?? 2_000
  const maxGap = init.maxGapMs ?? 6_000
  const nodeIds = Array.from({ length: init.nodes }, (_, i) => i)
  const faults: Fault[] = []
  let at = random.int(minGap, maxGap)
  for (;;) {
    const durationMs = random.int(minFault, maxFault)
    if (at + durationMs > init.durationMs) break
    const kind = drawKind()
    const node = random.int(0, init.nodes - 1)
    if (kind === 'partition') {
      const shuffled = random.shuffle(nodeIds)
      const cut = Math.floor(init.nodes / 2)
      const side = (xs: number[]) => xs.sort((a, b) => a - b)
      faults.push({ kind, at, durationMs, sides: [side(shuffled.slice(0, cut)), side(shuffled.slice(cut))] })
    } else if (kind === 'loss') {
      const p = random.between(init.minLoss ?? 0.1, init.maxLoss ?? 0.4)
      faults.push({ kind, at, durationMs, node, probability: Math.round(p * 100) / 100 })
    } else if (kind === 'relay' && relayNodes.length > 0) {
      faults.push({ kind, at, durationMs, node: relayNodes[node % relayNodes.length] as number })
    } else faults.push({ kind, at, durationMs, node })
    at += durationMs + random.int(minGap, maxGap)
  }
  return { seed: random.seed, nodes: init.nodes, durationMs: init.durationMs, faults }
}

/** One line per fault, for the log and a failing run's report. */
export function describeSchedule(s: Schedule): string {
  const lines = s.faults.map((f) => {
    const when = `${(f.at / 1000).toFixed(1)}s +${(f.durationMs / 1000).toFixed(1)}s`
    switch (f.kind) {
      case 'partition':
        return `${when} partition [${f.sides[0].join(',')}] | [${f.sides[1].join(',')}]`
      case 'loss':
        return `${when} loss ${Math.round(f.probability * 100)} % on node ${f.node}`
      default:
        return `${when} ${f.kind} node ${f.node}`
    }
  })
  return [
    `seed ${s.seed}: ${s.faults.length} faults over ${s.durationMs / 1000} s on ${s.nodes} nodes`,
    ...lines
  ].join('\n')
}
