import { describe, expect, it } from 'vitest'
import { runCli } from './helpers.js'

describe('chorus-node demo (the main job)', () => {
  it('runs every step on 5 agent processes and cleans up', async () => {
    const r = await runCli(['demo', '--json'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as {
      ok: boolean
      steps: Array<{ name: string; ok: boolean; detail: string }>
    }
    expect(report.ok).toBe(true)
    const byName = (part: string) => report.steps.find((s) => s.name.includes(part))
    expect(byName('frontend_developer is refused')?.detail).toMatch(/403 UCXL-403-ACCESS_DENIED/)
    expect(byName('replication health')?.detail).toMatch(/^healthy/)
    expect(byName('writer gone') ?? byName('from another agent')).toMatchObject({ ok: true })
    expect(report.steps.every((s) => s.ok)).toBe(true)
  }, 240_000)
})
