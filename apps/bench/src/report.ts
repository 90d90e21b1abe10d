/**
 * BENCHMARKS.md and its charts, from one run's results. Pure functions of the run (plus the
 * file names it is told), so the tests can feed it sample results.
 *
 * Why it is long: it is the one generator of one document, its sections in the order they are
 * written, each a short function of the run; most of its lines are the document's own prose.
 */
import { lineChartSvg, type Series } from './charts.js'
import { labSection } from './lab/report.js'
import { recordsSection } from './records/report.js'
import type { Figure, PackageRun, RunResults } from './results.js'
import { ratioOf } from './results.js'
import type { SimulationResult } from './sim/run.js'
import type { Summary } from './stats.js'
import type { SystemResult } from './system/types.js'

export const BENCH_PACKAGE = '@chorus/bench'

export interface Chart {
  /** File name under the charts folder, e.g. `simulation-hops.svg`. */
  file: string
  title: string
  svg: string
}

export interface ReportOptions {
  /** The run's JSON file, relative to the repository root. */
  runFile: string
  /** Where the charts are, relative to the repository root (e.g. `docs/bench`). */
  chartsDir: string
  charts: Chart[]
}

/** A number with about three significant digits, thousands separated, no exponent. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  const abs = Math.abs(value)
  if (abs === 0) return '0'
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(3)
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a'
  if (unit === 'bytes' || unit === 'B') return formatBytes(value)
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a'
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = bytes
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${formatNumber(v)} ${units[i]}`
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio == null || !Number.isFinite(ratio)) return '-'
  return `${formatNumber(ratio)}x`
}

const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : 'n/a')
const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)
  ].join('\n')
}

function figureTable(figures: Figure[]): string {
  return table(
    ['Figure', 'Value', 'Baseline (same run)', 'Baseline value', 'Ratio', 'Note'],
    figures.map((f) => [
      f.name,
      formatValue(f.value, f.unit),
      f.baseline?.name ?? '-',
      f.baseline == null ? '-' : formatValue(f.baseline.value, f.baseline.unit ?? f.unit),
      formatRatio(ratioOf(f)),
      f.note ?? ''
    ])
  )
}

const STATUS_TEXT: Record<PackageRun['status'], string> = {
  measured: 'measured',
  failed: 'bench failed',
  timeout: 'bench timed out',
  'no-results': 'bench ran but wrote no results',
  stale: 'results file is older than this run',
  'no-bench': 'no bench script',
  skipped: "not run: the run's time budget was spent"
}

function systemSection(system: SystemResult | undefined, chartLinks: string[]): string {
  const out = ['## System benchmark (apps/bench)', '']
  if (system == null || !system.available) {
    out.push(`Not available in this run: ${system == null ? 'no system results' : system.reason}.`)
    return out.join('\n')
  }
  out.push(
    `Layout: ${system.layout}. Content: ${formatBytes(system.contentBytes)} per store, through @chorus/storage's createEncryptedStorage on @chorus/dht's LibP2PDHT with the storage record rules. Baselines: raw @libp2p/kad-dht put/get on a network of the same size started in the same run.`,
    ''
  )
  for (const note of system.notes) out.push(`- ${note}`)
  if (system.notes.length > 0) out.push('')
  out.push(...chartLinks, '')
  for (const s of system.sizes) {
    out.push(`### ${s.nodes} nodes`, '')
    const row = (
      name: string,
      sum: Summary,
      cpu: number | undefined,
      base?: Summary,
      baseName?: string
    ): string[] => [
      name,
      `${formatNumber(sum.p50)} ms`,
      `${formatNumber(sum.p99)} ms`,
      `${formatNumber(sum.mean)} ms`,
      String(sum.count),
      base == null ? '-' : `${baseName}: ${formatNumber(base.p50)} ms / ${formatNumber(base.p99)} ms`,
      base == null ? '-' : formatRatio(sum.p50 / base.p50),
      base == null ? '-' : formatRatio(sum.p99 / base.p99),
      cpu == null ? '-' : `${formatNumber(cpu)} ms`
    ]
    const rows = [
      row(
        'store (returns at write quorum)',
        s.store,
        s.storeUntilIdle == null ? s.cpuMsPerOp.store : undefined,
        s.rawPut,
        'raw kad-dht put'
      ),
      ...(s.storeUntilIdle == null
        ? []
        : [
            row(
              'store until idle (incl. background)',
              s.storeUntilIdle,
              s.cpuMsPerOp.store,
              s.rawPut,
              'raw kad-dht put'
            )
          ]),
      row(
        'retrieve, cold (no cache)',
        s.retrieveCold,
        s.cpuMsPerOp.retrieveCold,
        s.rawGet,
        'raw kad-dht get'
      ),
      row('retrieve, cached', s.retrieveCached, s.cpuMsPerOp.retrieveCached, s.rawGet, 'raw kad-dht get')
    ]
    if (s.rawPut != null) rows.push(row('baseline: raw kad-dht put', s.rawPut, s.cpuMsPerOp.rawPut))
    if (s.rawGet != null) rows.push(row('baseline: raw kad-dht get', s.rawGet, s.cpuMsPerOp.rawGet))
    out.push(
      table(
        [
          'Operation',
          'p50',
          'p99',
          'mean',
          'samples',
          'Baseline p50 / p99 (same run)',
          'Ratio p50',
          'Ratio p99',
          'CPU per op'
        ],
        rows
      ),
      ''
    )
    out.push(
      table(
        ['Concurrency', 'store ops/s', 'store ops/s with background', 'retrieve ops/s (cold)'],
        s.throughput.map((t) => [
          String(t.concurrency),
          formatNumber(t.storePerSecond),
          t.storeDrainedPerSecond == null ? '-' : formatNumber(t.storeDrainedPerSecond),
          formatNumber(t.retrievePerSecond)
        ])
      ),
      ''
    )
    const extra = [`RSS growth per node: ${formatBytes(s.rssBytesPerNode)}`]
    if (s.heapBytesPerNode != null) extra.push(`heap + external per node: ${formatBytes(s.heapBytesPerNode)}`)
    if (s.rssBytesTotal != null) {
      extra.push(
        `process RSS with the network up: ${formatBytes(s.rssBytesTotal)} (${formatBytes(s.rssBytesTotal / s.nodes)} per node, an upper bound)`
      )
    }
    if (s.acksPerStore != null) extra.push(`acknowledgements per store: ${formatNumber(s.acksPerStore)}`)
    out.push(`${extra.join('; ')}.`, '')
    if (s.errors.length > 0) {
      const more = s.errors.length >= 20 ? '+' : ''
      out.push(
        `Failed operations at this size: ${s.errors.length}${more}; first: ${s.errors.slice(0, 3).join('; ')}`,
        ''
      )
    }
  }
  return out.join('\n')
}

function simulationSection(
  sim: SimulationResult | { skipped: true; reason: string } | undefined,
  chartLinks: string[]
): string {
  const out = ['## Scale simulation (apps/bench)', '']
  if (sim == null || 'skipped' in sim) {
    out.push(`Not available in this run: ${sim == null ? 'no simulation results' : sim.reason}.`)
    return out.join('\n')
  }
  out.push(
    `All nodes in one process. Routing tables are @libp2p/kad-dht ${sim.kadDhtVersion}'s own KBucket trie (k = ${sim.k}, prefix length ${sim.prefixLength}), filled by its insertion rules as nodes join (bootstrap through one random earlier node, self-lookup) and by one round of its RoutingTableRefresh. Lookups follow kad-dht's QueryManager/queryPath rules with alpha = ${sim.alpha} and ${sim.disjointPaths} disjoint paths; the messages are function calls. Dead nodes stay in routing tables (kad-dht evicts only when a bucket is full). Success: the closest live node to a random key is in the result; recall: share of the true ${sim.k} closest live nodes found. Simulated time assumes RTT ${sim.latencyModel.rttMinMs}-${sim.latencyModel.rttMaxMs} ms and ${sim.latencyModel.deadPeerTimeoutMs} ms lost per dead peer.`,
    '',
    ...chartLinks,
    ''
  )
  const rows: string[][] = []
  for (const s of sim.sizes) {
    for (const { dead, stats } of s.byDead) {
      rows.push([
        s.nodes.toLocaleString('en-US'),
        `${Math.round(dead * 100)} %`,
        pct(stats.success),
        pct(stats.recall),
        formatNumber(stats.hops.mean),
        formatNumber(stats.hops.p99),
        formatNumber(stats.messages.mean),
        formatNumber(stats.messages.p99),
        formatNumber(stats.failedMessages.mean),
        `${formatNumber(stats.simulatedMs.p50)} ms`,
        formatNumber(s.tableSize.mean),
        formatBytes(s.heapBytesPerNode)
      ])
    }
  }
  out.push(
    table(
      [
        'N',
        'dead',
        'success',
        'recall@k',
        'hops mean',
        'hops p99',
        'messages mean',
        'messages p99',
        'to dead peers',
        'sim. time p50',
        'routing entries/node',
        'heap/node'
      ],
      rows
    ),
    ''
  )
  const checks = sim.sizes.filter((s) => s.crossCheck != null)
  if (checks.length > 0) {
    out.push(
      "Cross-check at 0 % dead, on the same networks: the same kind of lookups run by kad-dht's own QueryManager (its real code, not the event-driven copy). The real one asks some peers twice (two answers naming a peer pass its seen-filter check before either queues it, across an await), and in one process every answer arrives at once, so it sends more messages for the same result:",
      '',
      table(
        [
          'N',
          'engine',
          'lookups',
          'success',
          'recall@k',
          'hops mean',
          'messages mean',
          'distinct peers asked',
          'CPU per lookup'
        ],
        checks.flatMap((s) => {
          const mine = s.byDead.find((d) => d.dead === 0)?.stats
          const kad = s.crossCheck!
          const r = (name: string, st: typeof kad): string[] => [
            formatNumber(s.nodes),
            name,
            String(st.lookups),
            pct(st.success),
            pct(st.recall),
            formatNumber(st.hops.mean),
            formatNumber(st.messages.mean),
            st.distinctPeers == null ? '-' : formatNumber(st.distinctPeers.mean),
            `${formatNumber(st.cpuMsPerLookup)} ms`
          ]
          return mine == null
            ? [r('kad-dht QueryManager', kad)]
            : [r('kad-dht QueryManager', kad), r('event-driven copy', mine)]
        })
      ),
      ''
    )
  }
  out.push(`Simulation wall time: ${formatNumber(sim.durationMs / 1000)} s.`)
  return out.join('\n')
}

/** The charts of a run: latency percentiles of the system benchmark, hops and messages against N. */
export function buildCharts(run: RunResults): Chart[] {
  const details = run.packages.find((p) => p.package === BENCH_PACKAGE)?.results?.details
  const charts: Chart[] = []
  const system = details?.system
  if (system?.available && system.sizes.length > 0) {
    const sizes = system.sizes
    const pick = (
      name: string,
      f: (s: (typeof sizes)[number]) => number | undefined,
      color: string,
      dash?: string
    ): Series => ({
      name,
      color,
      ...(dash != null ? { dash } : {}),
      points: sizes.map((s) => [s.nodes, f(s) ?? Number.NaN] as [number, number])
    })
    const series = [
      pick('store p50', (s) => s.store.p50, '#1f77b4'),
      pick('store p99', (s) => s.store.p99, '#1f77b4', '6 4'),
      pick('store until idle p50', (s) => s.storeUntilIdle?.p50, '#17becf'),
      pick('retrieve cold p50', (s) => s.retrieveCold.p50, '#2ca02c'),
      pick('retrieve cold p99', (s) => s.retrieveCold.p99, '#2ca02c', '6 4'),
      pick('retrieve cached p50', (s) => s.retrieveCached.p50, '#9467bd'),
      pick('retrieve cached p99', (s) => s.retrieveCached.p99, '#9467bd', '6 4'),
      pick('raw kad-dht put p50', (s) => s.rawPut?.p50, '#d62728', '2 3'),
      pick('raw kad-dht get p50', (s) => s.rawGet?.p50, '#ff7f0e', '2 3')
    ].filter((s) => s.points.some(([, y]) => Number.isFinite(y) && y > 0))
    if (series.length > 0) {
      charts.push({
        file: 'system-latency.svg',
        title: 'System benchmark: latency percentiles',
        svg: lineChartSvg({
          title: 'Store / retrieve latency percentiles (loopback)',
          xLabel: 'nodes',
          yLabel: 'milliseconds',
          logY: true,
          series
        })
      })
    }
  }
  const sim = details?.simulation
  if (sim != null && !('skipped' in sim) && sim.sizes.length > 0) {
    const deads = [...new Set(sim.sizes.flatMap((s) => s.byDead.map((d) => d.dead)))]
    const perDead = (metric: (st: SizeStats) => number): Series[] =>
      deads.map((dead) => ({
        name: `${Math.round(dead * 100)} % dead`,
        points: sim.sizes.map((s) => {
          const st = statsAt(s, dead)
          return [s.nodes, st == null ? Number.NaN : metric(st)] as [number, number]
        })
      }))
    const first = sim.sizes[0]!
    const firstHops = statsAt(first, 0)?.hops.mean ?? Number.NaN
    const reference: Series = {
      name: `log2(N), scaled to N=${formatNumber(first.nodes)}`,
      dashed: true,
      points: sim.sizes.map((s) => [s.nodes, (firstHops * Math.log2(s.nodes)) / Math.log2(first.nodes)])
    }
    charts.push({
      file: 'simulation-hops.svg',
      title: 'Scale simulation: hops per lookup against N',
      svg: lineChartSvg({
        title: 'Hops per lookup (mean) against network size',
        xLabel: 'nodes (N)',
        yLabel: 'hops to the closest peer',
        logX: true,
        series: [...perDead((st) => st.hops.mean), reference]
      })
    })
    charts.push({
      file: 'simulation-messages.svg',
      title: 'Scale simulation: messages per lookup against N',
      svg: lineChartSvg({
        title: 'FIND_NODE messages per lookup (mean) against network size',
        xLabel: 'nodes (N)',
        yLabel: 'messages',
        logX: true,
        series: perDead((st) => st.messages.mean)
      })
    })
  }
  return charts
}

type SizeStats = SimulationResult['sizes'][number]['byDead'][number]['stats']
function statsAt(size: SimulationResult['sizes'][number], dead: number): SizeStats | undefined {
  return size.byDead.find((d) => d.dead === dead)?.stats
}

function loadText(run: RunResults): string {
  const load = run.loadAverage
  if (load == null || load.start[0] == null || load.end[0] == null) return ''
  return `; other work shared the machine: 1-minute load average ${formatNumber(load.start[0])} at the start and ${formatNumber(load.end[0])} at the end, on ${run.machine.cpus} cores, so absolute times are inflated and the same-run ratios are the figures to compare`
}

export function generateBenchmarksMd(run: RunResults, options: ReportOptions): string {
  const m = run.machine
  const link = (file: string): string => `${options.chartsDir}/${file}`
  const chartLink = (c: Chart): string => `![${c.title}](${link(c.file)})`
  const systemCharts = options.charts.filter((c) => c.file.startsWith('system')).map(chartLink)
  const simCharts = options.charts.filter((c) => c.file.startsWith('simulation')).map(chartLink)
  const missing = run.packages.filter((p) => !(p.status === 'measured' && p.results != null))
  const bench = run.packages.find((p) => p.package === BENCH_PACKAGE)
  const details = bench?.results?.details

  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `pnpm bench` (scripts/bench.mjs + apps/bench). Do not edit by hand. -->',
    '',
    `Run: ${run.date}${run.quick ? ' (**--quick smoke run**: small samples, figures are indicative only)' : ''}, ${formatNumber(run.durationMs / 1000)} s in all. Raw results: [${options.runFile}](${options.runFile}).`,
    '',
    `Machine: ${m.cpus} x ${m.cpuModel}, ${m.totalMemBytes == null ? 'RAM unknown' : `${formatBytes(m.totalMemBytes)} RAM`}, Node ${m.node}${m.platform == null ? '' : `, ${m.platform}`}. The benchmarks ran one at a time${loadText(run)}.`,
    '',
    'Each figure stands beside a baseline measured in the same run on the same machine; ratio = figure / baseline (for a latency below 1 is faster, for a rate such as ops/s or MB/s above 1 is faster).',
    '',
    '## Contents',
    '',
    table(
      ['Package', 'Status', 'Figures', 'Bench time'],
      run.packages.map((p) => [
        p.package,
        STATUS_TEXT[p.status],
        p.results != null
          ? String(p.results.results.length)
          : p.earlier != null
            ? `- (${p.earlier.results.length} from an earlier run shown)`
            : '-',
        p.durationMs == null ? '-' : `${formatNumber(p.durationMs / 1000)} s`
      ])
    ),
    ''
  ]
  const layouts: string[] = []
  const system = details?.system
  if (system?.available) layouts.push(`- System benchmark (apps/bench): ${system.layout}.`)
  for (const p of run.packages) {
    const layout = (p.results ?? p.earlier)?.layout
    if (p.package !== BENCH_PACKAGE && typeof layout === 'string' && layout.length > 0)
      layouts.push(`- ${p.package}: ${layout}.`)
  }
  if (layouts.length > 0) out.push('Which nodes are processes:', '', ...layouts, '')
  if (options.charts.length > 0) {
    out.push('Charts: ', ...options.charts.map((c) => `- [${c.title}](${link(c.file)})`), '')
  }
  if (bench != null && bench.status !== 'measured') {
    out.push(
      `**@chorus/bench (system benchmark and simulation): ${STATUS_TEXT[bench.status]} in this run${bench.error ? ` (${bench.error})` : ''}.**`,
      ''
    )
  }
  const parts = Object.entries(bench?.results?.measuredAt ?? {})
  if (new Set(parts.map(([, d]) => d)).size > 1) {
    out.push(
      `@chorus/bench's parts were measured at different times (an \`--only\` run replaced one part and kept the others): ${parts.map(([p, d]) => `${p} ${d}`).join(', ')}.`,
      ''
    )
  }
  out.push(systemSection(details?.system, systemCharts), '')
  out.push(simulationSection(details?.simulation, simCharts), '')
  out.push(recordsSection(details?.records), '')
  out.push(labSection(details?.lab, run), '')
  for (const p of run.packages) {
    if (p.package === BENCH_PACKAGE) continue
    const thisRun = p.results != null
    const r = p.results ?? p.earlier
    if (r == null) continue
    const ok = p.status === 'measured' && thisRun
    out.push(`## ${p.package}${ok ? '' : ` (${STATUS_TEXT[p.status]})`}`, '')
    if (!ok) {
      out.push(
        thisRun
          ? `**The bench ${STATUS_TEXT[p.status].replace(/^bench /, '')} in this run${p.error ? ` (${p.error})` : ''}; the figures below are what it wrote before that.**`
          : `**Not measured in this run: ${STATUS_TEXT[p.status]}${p.error ? ` (${p.error})` : ''}. The figures below are from an earlier run (${r.date}), not this one; their baselines are from that same earlier run.**`,
        ''
      )
    }
    const mode = (r as { mode?: unknown }).mode
    const flavour = r.quick ? ' (quick)' : typeof mode === 'string' && mode !== 'full' ? ` (${mode})` : ''
    out.push(`Source: \`${p.dir}/bench-results/latest.json\`, measured ${r.date}${flavour}.`, '')
    const method = (r as { method?: unknown }).method
    if (typeof method === 'string' && method.length > 0) out.push(`Method: ${method}`, '')
    if (r.layout != null && r.layout.length > 0) out.push(`Layout: ${r.layout}.`, '')
    out.push(r.results.length > 0 ? figureTable(r.results) : 'The bench wrote no figures.', '')
  }
  out.push('## Not measured in this run', '')
  if (missing.length === 0) {
    out.push('Every package with a bench script was measured.')
  } else {
    for (const p of missing) {
      const shown =
        p.results != null
          ? '; the figures it wrote before are shown above'
          : p.earlier != null
            ? `; figures of an earlier run (${p.earlier.date}) are shown above, marked`
            : ''
      out.push(
        `- ${p.package} (${p.dir}): not measured in this run: ${STATUS_TEXT[p.status]}${p.error ? ` (${p.error})` : ''}${shown}.`
      )
    }
  }
  out.push('')
  return out.join('\n')
}
