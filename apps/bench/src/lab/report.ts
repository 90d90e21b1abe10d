/**
 * The lab benchmark in the results and in BENCHMARKS.md: store and retrieve latency of CHORUS
 * beside raw kad-dht put and get, under each condition, each with its same-run, same-lab baseline.
 */
import type { Figure } from '../results.js'
import type { LabCondition, LabConditionResult, LabLatency, LabResult } from './types.js'

const TITLE: Record<LabCondition, string> = {
  direct: 'direct',
  relayed: 'relayed',
  loss: 'with loss'
}

const ms = (v: number): string =>
  Number.isFinite(v) ? `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms` : 'n/a'
const rx = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-'
const row = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`
const failures = (l: LabLatency): string =>
  l.failed === 0
    ? '0'
    : `${l.failed} (${Object.entries(l.errors)
        .map(([k, v]) => `${v} x ${k}`)
        .join('; ')})`

/** The headline figures: p50 and p99 of CHORUS store and retrieve, each beside raw put or get. */
export function labFigures(r: LabResult | undefined): Figure[] {
  if (r == null || !r.available) return []
  const out: Figure[] = []
  for (const c of r.conditions) {
    const pairs: Array<[string, LabLatency, string, LabLatency]> = [
      ['store', c.chorusStore, 'raw kad-dht put', c.rawPut],
      ['retrieve', c.chorusRetrieve, 'raw kad-dht get', c.rawGet]
    ]
    for (const [what, chorus, baseName, base] of pairs) {
      for (const p of ['p50', 'p99'] as const) {
        const value = chorus.summary[p]
        const baseValue = base.summary[p]
        out.push({
          name: `lab ${TITLE[c.condition]}: ${what} ${p}`,
          value,
          unit: 'ms',
          ...(Number.isFinite(baseValue)
            ? {
                baseline: { name: `${baseName} ${p} (same lab, same run)`, value: baseValue },
                ...(Number.isFinite(value) && baseValue > 0 ? { ratio: value / baseValue } : {})
              }
            : {}),
          note: `${chorus.summary.count} samples, ${chorus.failed} failed; baseline ${base.summary.count} samples, ${base.failed} failed`
        })
      }
    }
  }
  return out
}

function conditionRows(c: LabConditionResult): string[] {
  const line = (what: string, l: LabLatency, base?: LabLatency): string =>
    row([
      what,
      String(l.summary.count),
      ms(l.summary.p50),
      ms(l.summary.p99),
      base == null ? '-' : rx(l.summary.p50, base.summary.p50),
      base == null ? '-' : rx(l.summary.p99, base.summary.p99),
      failures(l)
    ])
  return [
    line('CHORUS store', c.chorusStore, c.rawPut),
    line('raw kad-dht put', c.rawPut),
    line('CHORUS retrieve', c.chorusRetrieve, c.rawGet),
    line('raw kad-dht get', c.rawGet)
  ]
}

/** The section; `run` (the report's run: when it ended and how long it took) says whether the lab ran within it. */
export function labSection(r: LabResult | undefined, run?: { date: string; durationMs: number }): string {
  const out = ['## Lab benchmark (apps/bench)', '']
  if (r == null) {
    out.push(
      'Not run in this run (a run from before it existed, `--only` of another part, or a quick run without `BENCH_LAB=1`). It runs in a full `pnpm bench` (as root) or alone with `node apps/bench/dist/bin/bench.js --only lab`.'
    )
    return out.join('\n')
  }
  if (!r.available) {
    out.push(`Not available in this run: ${r.reason}.`)
    return out.join('\n')
  }
  if (run != null) {
    const end = Date.parse(run.date)
    const at = Date.parse(r.date)
    // the lab result is dated when the lab bench ended: within the run's span unless an `--only lab` run made it
    if (
      Number.isFinite(end) &&
      Number.isFinite(at) &&
      (at > end + 60_000 || at < end - run.durationMs - 60_000)
    )
      out.push(`Measured ${r.date} (an \`--only lab\` run), not with the rest of this report.`, '')
  }
  out.push(
    `Layout: ${r.layout}.`,
    '',
    `Method: ${r.method} Ratio = CHORUS / raw kad-dht at the same percentile (below 1 is faster).`,
    ''
  )
  const load = r.loadAverage
  if (load != null && Number.isFinite(load.start))
    out.push(
      `- Other work shared the machine: 1-minute load average ${load.start.toFixed(1)} when the lab bench started and ${load.end.toFixed(1)} when it ended, so absolute times are inflated; the interleaved CHORUS/raw ratios are the figures to compare.`
    )
  for (const note of r.notes) out.push(`- ${note}`)
  if (r.notes.length > 0 || load != null) out.push('')
  for (const c of r.conditions) {
    out.push(
      `### ${TITLE[c.condition][0]!.toUpperCase()}${TITLE[c.condition].slice(1)}`,
      '',
      `Setup: ${c.setup}.`,
      ''
    )
    if (c.error != null) out.push(`**Stopped early: ${c.error}**`, '')
    out.push(
      row(['Operation', 'Samples', 'p50', 'p99', 'p50 vs raw', 'p99 vs raw', 'Failed']),
      row(['---', '---', '---', '---', '---', '---', '---']),
      ...conditionRows(c),
      ''
    )
    const extra: string[] = []
    if (c.readsFromOwnReplica > 0)
      extra.push(
        `${c.readsFromOwnReplica} of ${c.chorusRetrieve.summary.count + c.chorusRetrieve.failed} retrieves were by an agent that held a replica (every reader had acknowledged the store)`
      )
    if (c.relay != null)
      extra.push(
        `over the phase the NATed agent counted ${c.relay.relayedConnections} new relayed connection(s) and ${c.relay.directUpgrades} upgrade(s) to direct`
      )
    extra.push(`phase time ${(c.durationMs / 1000).toFixed(0)} s`)
    out.push(`${extra.join('; ')}.`, '')
  }
  out.push(
    `Lab benchmark wall time: ${(r.durationMs / 1000).toFixed(0)} s (lab set-up and agent start included).`
  )
  return out.join('\n')
}
