import { describe, expect, it } from 'vitest'
import { escapeXml, formatTick, lineChartSvg } from '../src/charts.js'

function polylinePoints(svg: string): Array<Array<[number, number]>> {
  return [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) =>
    m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number])
  )
}

describe('lineChartSvg', () => {
  const chart = {
    title: 'Hops <vs> N',
    xLabel: 'nodes',
    yLabel: 'hops',
    width: 600,
    height: 400,
    series: [
      {
        name: '0 % dead',
        points: [
          [100, 1],
          [1000, 2],
          [500, 1.5]
        ] as Array<[number, number]>
      },
      {
        name: 'ref & more',
        points: [
          [100, 1],
          [1000, 3]
        ] as Array<[number, number]>,
        dashed: true
      }
    ]
  }

  it('draws one polyline per series with every point inside the plot, sorted by x', () => {
    const svg = lineChartSvg(chart)
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trim().endsWith('</svg>')).toBe(true)
    const lines = polylinePoints(svg)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toHaveLength(3)
    for (const line of lines) {
      for (const [x, y] of line) {
        expect(x).toBeGreaterThanOrEqual(0)
        expect(x).toBeLessThanOrEqual(600)
        expect(y).toBeGreaterThanOrEqual(0)
        expect(y).toBeLessThanOrEqual(400)
      }
      const xs = line.map(([x]) => x)
      expect(xs).toEqual([...xs].sort((a, b) => a - b))
    }
    // larger y is drawn higher (smaller svg y)
    const first = lines[0]!
    expect(first[2]![1]).toBeLessThan(first[0]![1])
    expect(svg).toContain('stroke-dasharray')
    expect(svg.match(/<circle /g)).toHaveLength(5)
  })

  it('escapes text', () => {
    const svg = lineChartSvg(chart)
    expect(svg).toContain('Hops &lt;vs&gt; N')
    // the chart's accessible name: the first <title> right inside <svg>
    expect(svg).toMatch(/^<svg [^>]*role="img">\n<title>Hops &lt;vs&gt; N/)
    expect(svg).toContain('ref &amp; more')
    expect(svg).not.toContain('<vs>')
  })

  it('places log-scale points by their logarithm and skips points a log axis cannot show', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      logX: true,
      series: [
        {
          name: 's',
          points: [
            [10, 1],
            [100, 1],
            [1000, 1],
            [0, 1],
            [Number.NaN, 2]
          ]
        }
      ]
    })
    const [line] = polylinePoints(svg)
    expect(line).toHaveLength(3)
    const [a, b, c] = line!.map(([x]) => x)
    expect(b! - a!).toBeCloseTo(c! - b!, 1)
    expect(svg).toContain('(log scale)')
  })

  it('uses a series colour and dash pattern when given', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          color: '#123456',
          dash: '2 3',
          points: [
            [1, 1],
            [2, 2]
          ]
        }
      ]
    })
    expect(svg).toMatch(/<polyline[^>]*stroke="#123456"[^>]*stroke-dasharray="2 3"/)
  })

  it('refuses a chart with nothing to draw', () => {
    expect(() =>
      lineChartSvg({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [] }] })
    ).toThrow(/no point/)
  })
})

describe('helpers', () => {
  it('formats ticks and escapes XML', () => {
    expect(formatTick(2000)).toBe('2000')
    expect(formatTick(20000)).toBe('20k')
    expect(formatTick(0.125)).toBe('0.125')
    expect(formatTick(2_500_000)).toBe('2.5M')
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;')
  })
})
