/** The lab benchmark's settings from the environment and whether a run includes it (pure). */
import type { LabCondition } from './types.js'

export interface LabBenchOptions {
  /** Timed operations of each kind under each condition. Default 20. */
  samples?: number
  /** Untimed operations of each kind before each condition's samples. Default 2. */
  warmup?: number
  /** Loss probability of the `loss` condition on every node's packets. Default 0.02. */
  loss?: number
  /** Which conditions, in order. Default all three. */
  conditions?: LabCondition[]
  recordBytes?: number
  log?: (line: string) => void
}

const CONDITIONS: readonly LabCondition[] = ['direct', 'relayed', 'loss']

/**
 * BENCH_LAB_SAMPLES (1..1000), BENCH_LAB_LOSS (a fraction within 0..0.5, or a percentage such as
 * `2%`), BENCH_LAB_CONDITIONS (`direct`, `relayed`, `loss`, comma-separated). Bad values are left out.
 */
export function labOptionsFromEnv(env: Record<string, string | undefined> = process.env): LabBenchOptions {
  const out: LabBenchOptions = {}
  const samples = Number(env.BENCH_LAB_SAMPLES)
  if (env.BENCH_LAB_SAMPLES != null && Number.isInteger(samples) && samples >= 1 && samples <= 1000)
    out.samples = samples
  const rawLoss = env.BENCH_LAB_LOSS?.trim()
  if (rawLoss != null && rawLoss !== '') {
    const percent = rawLoss.endsWith('%')
    const v = Number(percent ? rawLoss.slice(0, -1) : rawLoss) / (percent ? 100 : 1)
    if (Number.isFinite(v) && v > 0 && v <= 0.5) out.loss = v
  }
  const conditions = (env.BENCH_LAB_CONDITIONS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is LabCondition => (CONDITIONS as readonly string[]).includes(s))
  if (conditions.length > 0) out.conditions = CONDITIONS.filter((c) => conditions.includes(c))
  return out
}

/**
 * Whether this run includes the lab benchmark: `--only lab`, or a full run (no `--only`); a quick
 * run only when BENCH_LAB=1 (the lab needs minutes, not seconds).
 */
export function labWanted(
  only: string | undefined,
  quick: boolean,
  env: Record<string, string | undefined> = process.env
): boolean {
  return only === 'lab' || (only == null && (!quick || env.BENCH_LAB === '1'))
}
