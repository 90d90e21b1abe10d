// Charts over time of the figures /metrics exposes, from the agent's bounded ring of samples.
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import { get } from '../api.js'
import { ErrorNote, html, PageTitle, useLoad, when } from '../ui.js'

const CHARTS = [
  {
    id: 'ops',
    title: 'Stores and retrieves (total)',
    series: [
      ['stores', 'stores', '#1d4ed8'],
      ['retrieves', 'retrieves', '#b45309']
    ]
  },
  {
    id: 'cache',
    title: 'Cache hits and misses (total)',
    series: [
      ['cacheHits', 'hits', '#047857'],
      ['cacheMisses', 'misses', '#b91c1c']
    ]
  },
  {
    id: 'replication',
    title: 'Replication health (keys)',
    series: [
      ['healthyKeys', 'healthy', '#047857'],
      ['degradedKeys', 'degraded', '#b45309'],
      ['criticalKeys', 'critical', '#b91c1c']
    ]
  },
  { id: 'peers', title: 'Connected peers', series: [['peers', 'peers', '#6d28d9']] }
]

function Chart({ chart, samples }) {
  const box = useRef(null)
  const plot = useRef(null)
  useEffect(() => {
    const data = [samples.map((s) => s.t / 1000), ...chart.series.map(([k]) => samples.map((s) => s[k]))]
    if (plot.current === null) {
      plot.current = new uPlot(
        {
          width: Math.max(320, Math.min(720, box.current.clientWidth)),
          height: 200,
          series: [{}, ...chart.series.map(([, label, stroke]) => ({ label, stroke, width: 2 }))],
          axes: [{}, { size: 60 }]
        },
        data,
        box.current
      )
    } else plot.current.setData(data)
  }, [samples, chart])
  useEffect(() => () => plot.current?.destroy(), [])
  const last = samples.at(-1)
  return html`<figure class="chart">
    <figcaption id=${`chart-${chart.id}`}>${chart.title}</figcaption>
    <div ref=${box} role="img" aria-labelledby=${`chart-${chart.id}`}
      aria-describedby=${`chart-${chart.id}-now`}></div>
    <p id=${`chart-${chart.id}-now`} class="now">
      Now: ${chart.series.map(([k, label]) => `${label} ${last?.[k] ?? '—'}`).join(', ')}
    </p>
  </figure>`
}

export function MetricsPage() {
  const { data, error } = useLoad(() => get('/v1/console/metrics'), [], 5_000)
  return html`
    <${PageTitle}>Metrics</${PageTitle}>
    ${error && html`<${ErrorNote} error=${error} what="metrics" />`}
    ${
      data &&
      html`<p>
          ${`${data.samples.length} sample(s), one every ${data.intervalMs / 1000} s since ${when(data.samples[0]?.t)}; `}
          the same figures as <code>/metrics</code>.
        </p>
        <div class="charts">${CHARTS.map((c) => html`<${Chart} key=${c.id} chart=${c} samples=${data.samples} />`)}</div>`
    }
  `
}
