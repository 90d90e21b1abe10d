/**
 * A small SVG line-chart writer (no dependency, no external service): numeric x and y, optional
 * log scales, one polyline with point markers per series, axes with ticks, a legend.
 */

export interface Series {
  name: string
  /** [x, y] pairs; points with a non-finite or (on a log axis) non-positive coordinate are skipped. */
  points: Array<[number, number]>
  /** Dashed line, e.g. for baselines and reference curves. */
  dashed?: boolean
  /** SVG stroke-dasharray, overrides `dashed` (e.g. '2 3' for dotted). */
  dash?: string
  /** Stroke colour; default: the next of a fixed palette. */
  color?: string
}

export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  logX?: boolean
  logY?: boolean
  /** Default 720 x 420. */
  width?: number
  height?: number
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf'
]

export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;')
}

/** Tick label: at most 3 significant digits, k/M suffixes for large values. */
export function formatTick(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`
  if (abs >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`
  return `${+value.toPrecision(3)}`
}

function linearTicks(min: number, max: number, count = 5): number[] {
  if (min === max) return [min]
  const raw = (max - min) / count
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw
  const ticks: number[] = []
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(+t.toPrecision(12))
  return ticks
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = []
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(+t.toPrecision(12))
    }
  }
  return ticks.length >= 2 ? ticks : [min, max]
}

export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 720
  const height = chart.height ?? 420
  const margin = { top: 40, right: 200, bottom: 55, left: 70 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const usable = (x: number, y: number): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!chart.logX || x > 0) && (!chart.logY || y > 0)
  const series = chart.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => usable(x, y)) }))
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) throw new Error(`chart "${chart.title}" has no point to draw`)

  let [xMin, xMax] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))]
  let [yMin, yMax] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))]
  if (!chart.logY) yMin = Math.min(0, yMin)
  if (xMin === xMax) [xMin, xMax] = chart.logX ? [xMin / 2, xMax * 2] : [xMin - 1, xMax + 1]
  if (yMin === yMax) [yMin, yMax] = chart.logY ? [yMin / 2, yMax * 2] : [yMin - 1, yMax + 1]
  if (!chart.logY) yMax += (yMax - yMin) * 0.05

  const scale = (v: number, lo: number, hi: number, log: boolean | undefined): number =>
    log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo)
  const px = (x: number): number => margin.left + scale(x, xMin, xMax, chart.logX) * plotW
  const py = (y: number): number => margin.top + plotH - scale(y, yMin, yMax, chart.logY) * plotH
  const f = (n: number): string => n.toFixed(1)

  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    // The first <title> of an <svg> is its accessible name (screen readers, tooltips).
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${f(margin.left + plotW / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`
  )
  const xTicks = chart.logX ? logTicks(xMin, xMax) : linearTicks(xMin, xMax)
  const yTicks = chart.logY ? logTicks(yMin, yMax) : linearTicks(yMin, yMax)
  for (const t of xTicks) {
    out.push(
      `<line x1="${f(px(t))}" y1="${margin.top}" x2="${f(px(t))}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${f(px(t))}" y="${margin.top + plotH + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`
    )
  }
  for (const t of yTicks) {
    out.push(
      `<line x1="${margin.left}" y1="${f(py(t))}" x2="${margin.left + plotW}" y2="${f(py(t))}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 8}" y="${f(py(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`
    )
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${f(margin.left + plotW / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(chart.xLabel + (chart.logX ? ' (log scale)' : ''))}</text>`,
    `<text transform="translate(18 ${f(margin.top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel + (chart.logY ? ' (log scale)' : ''))}</text>`
  )
  series.forEach((s, i) => {
    const color = escapeXml(s.color ?? COLORS[i % COLORS.length]!)
    const pattern = s.dash ?? (s.dashed ? '6 4' : undefined)
    const dash = pattern == null ? '' : ` stroke-dasharray="${escapeXml(pattern)}"`
    if (s.points.length > 0) {
      const pts = [...s.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => `${f(px(x))},${f(py(y))}`)
      out.push(
        `<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`
      )
      for (const [x, y] of s.points) {
        out.push(
          `<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3" fill="${color}"><title>${escapeXml(`${s.name}: ${formatTick(x)}, ${formatTick(y)}`)}</title></circle>`
        )
      }
    }
    const ly = margin.top + 10 + i * 20
    const lx = margin.left + plotW + 15
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
