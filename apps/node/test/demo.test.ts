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
    // the last act: a revocation followed by the rotation of the revoked member's role key
    expect(byName('revoke devops01')?.detail).toMatch(
      /revocation list v1 and manifest v2 \(rotated devops_engineer/
    )
    expect(byName('writes are refused everywhere')?.detail).toMatch(/acknowledged by 0 agents; found by none/)
    expect(byName('does not open for it')?.detail).toMatch(/its keys do not open the record/)
    expect(report.steps.every((s) => s.ok)).toBe(true)
  }, 240_000)
})
