import { ChorusError } from '@chorus/common'
import { describe, expect, it } from 'vitest'
import * as team from '../src/index.js'

const errorClasses = Object.entries(team).filter(
  ([, v]) => typeof v === 'function' && (v as { prototype: unknown }).prototype instanceof Error
) as [string, abstract new (...args: never[]) => Error][]

describe('error model', () => {
  it('every exported error extends ChorusError and is named after its class', () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(9)
    for (const [name, cls] of errorClasses) {
      expect(cls.prototype instanceof ChorusError, name).toBe(true)
      expect(cls.name).toBe(name)
    }
  })

  it('codes are TEAM_<REASON>, each once', () => {
    const codes = Object.values(team.TEAM_ERROR_CODES)
    expect(new Set(codes).size).toBe(codes.length)
    for (const code of codes) expect(code).toMatch(/^TEAM_[A-Z_]+$/)
  })

  it('every refusal has a fixed text per reason', () => {
    const a = new team.WriteDeniedError('wrong-agent')
    const b = new team.WriteDeniedError('wrong-agent')
    expect(a.message).toBe(b.message)
    expect(new team.WriteDeniedError('read-only').message).not.toBe(a.message)
    expect(team.WriteDeniedError.isInstance(a)).toBe(true)
    expect(team.NotAMemberError.isInstance(a)).toBe(false)
    expect(new team.NotAMemberError('expired').code).toBe(team.TEAM_ERROR_CODES.NOT_A_MEMBER)
  })

  it('the defaults are the documented ones', () => {
    expect(team.teamShareDefaults).toEqual({ shares: 5, threshold: 3 })
    expect(team.certificateDefaults.certificateValidity).toBe(365 * 24 * 60 * 60 * 1000)
    expect(team.teamPolicyDefaults.certificateCacheSize).toBe(1024)
    expect(team.teamLimits.maxManifestBytes).toBe(64 * 1024)
    expect(team.teamLimits.maxCertificateBytes).toBe(1024)
  })
})
