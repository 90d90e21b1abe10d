import { describe, expect, it } from 'vitest'
import { createRefusalLog, type Logger } from '../src/index.js'

function capture() {
  const lines: string[] = []
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push(JSON.stringify({ level, ...(typeof obj === 'string' ? { msg: obj } : obj), msg }))
  }
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { lines, logger }
}

describe('createRefusalLog', () => {
  it('a flood of 10,000 refusals makes a bounded number of short lines, none with the input', () => {
    const { lines, logger } = capture()
    let t = 0
    const log = createRefusalLog(logger, { now: () => t })
    const secret = 'PEER-INPUT-'.repeat(1000)
    for (let i = 0; i < 10_000; i++) {
      t += 1 // 10,000 refusals in 10 s
      log.refused(i % 2 === 0 ? 'RATE_LIMITED' : 'INVALID_RECORD', {
        peer: `12D3KooW${'x'.repeat(44)}`,
        key: secret,
        body: { secret },
        bytes: new Uint8Array(10_000)
      })
    }
    log.flush()
    // per code: a burst of 10, then 1 a second for 10 s; plus one summary
    expect(lines.length).toBeLessThanOrEqual(2 * (10 + 11) + 1)
    expect(lines.length).toBeGreaterThan(2)
    const bytes = lines.reduce((n, l) => n + l.length, 0)
    expect(bytes).toBeLessThan(lines.length * 400)
    for (const l of lines) expect(l).not.toContain('PEER-INPUT-PEER-INPUT')
    const summary = JSON.parse(lines.at(-1)!)
    expect(summary.msg).toMatch(/^\d+ refusals suppressed$/)
    expect(summary.suppressed).toBe(log.suppressed)
    expect(summary.suppressed + lines.length - 1).toBe(10_000)
    expect(Object.keys(summary.byCode).sort()).toEqual(['INVALID_RECORD', 'RATE_LIMITED'])
  })

  it('codes have separate budgets, the bucket refills, the summary comes once per batch', () => {
    const { lines, logger } = capture()
    let t = 0
    const log = createRefusalLog(logger, { burst: 2, ratePerSecond: 1, now: () => t })
    for (let i = 0; i < 5; i++) log.refused('A')
    log.refused('B')
    expect(lines.length).toBe(3)
    t = 1000
    log.refused('A')
    expect(lines.length).toBe(4)
    log.flush()
    log.flush()
    expect(lines.length).toBe(5)
    expect(JSON.parse(lines[4]!).byCode).toEqual({ A: 3 })
  })

  it('summarises on a timer that does not keep the process alive', async () => {
    const { lines, logger } = capture()
    const log = createRefusalLog(logger, { burst: 1, summaryInterval: 20 })
    log.refused('A')
    log.refused('A')
    await new Promise((r) => setTimeout(r, 60))
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['refused', '1 refusals suppressed'])
    log.stop()
  })
})
