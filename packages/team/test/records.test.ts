import { describe, expect, it } from 'vitest'
import {
  InvalidInputError,
  TEAM_ERROR_CODES,
  TeamRecordError,
  teamManifestKey,
  teamRecordSelector,
  teamRecordValidator
} from '../src/index.js'
import { flipBit, makeTeam, T0, thrown } from './helpers.js'

const encode = (s: string) => new TextEncoder().encode(s)

describe('the manifest as a DHT record', () => {
  const team = makeTeam()
  const policy = team.policy()
  const key = encode(teamManifestKey(team.teamId))

  it('lives under /CHORUS/team/<team id>', () => {
    expect(teamManifestKey(team.teamId)).toBe(`/CHORUS/team/${team.teamId}`)
    thrown(InvalidInputError, () => teamManifestKey('../ucxl'))
  })

  it("accepts this team's manifests signed by its root, older ones too", () => {
    const validate = teamRecordValidator(policy)
    validate(key, team.manifest({ version: 3 }))
    validate(key, team.manifest({ version: 1 }))
  })

  it('refuses another key, another team, and tampered bytes', () => {
    const validate = teamRecordValidator(policy)
    const other = makeTeam()
    const wrongKey = thrown(TeamRecordError, () =>
      validate(encode(teamManifestKey(other.teamId)), team.manifest())
    )
    expect(wrongKey.reason).toBe('wrong-key')
    expect(wrongKey.code).toBe(TEAM_ERROR_CODES.INVALID_RECORD)
    thrown(TeamRecordError, () => validate(encode('/CHORUS/ucxl/abc'), team.manifest()))
    expect(thrown(TeamRecordError, () => validate(key, other.manifest())).reason).toBe('invalid-manifest')
    const bytes = team.manifest()
    expect(thrown(TeamRecordError, () => validate(key, flipBit(bytes, 40))).reason).toBe('invalid-manifest')
  })

  it('remembers a manifest it opened by its bytes only: the same version tampered, or signed by another root, is still refused', () => {
    const validate = teamRecordValidator(policy)
    const select = teamRecordSelector(policy)
    const v3 = team.manifest({ version: 3 })
    for (let i = 0; i < 3; i++) validate(key, v3)
    expect(select(key, [v3, team.manifest({ version: 2 })])).toBe(0)
    expect(thrown(TeamRecordError, () => validate(key, flipBit(v3, 40))).reason).toBe('invalid-manifest')
    const elsewhere = makeTeam().manifest({ version: 3 })
    expect(thrown(TeamRecordError, () => validate(key, elsewhere)).reason).toBe('invalid-manifest')
    expect(select(key, [flipBit(v3, 40), v3])).toBe(1)
    // more manifests than it remembers: each still checked, each still valid
    for (let v = 1; v <= 40; v++) validate(key, team.manifest({ version: v }))
    validate(key, v3)
  })

  it('selects the highest valid version, the same on every node', () => {
    const select = teamRecordSelector(policy)
    const v1 = team.manifest({ version: 1 })
    const v4 = team.manifest({ version: 4 })
    const forged = makeTeam().manifest({ version: 99 })
    const broken = flipBit(team.manifest({ version: 50 }), 30)
    expect(select(key, [v1, forged, v4, broken])).toBe(2)
    expect(select(key, [v4, v1])).toBe(0)
    expect(select(key, [forged, broken])).toBe(0)
    // Two different copies of one version: the smaller bytes, whatever the order.
    const a = team.manifest({ version: 4, issuedAt: T0 + 1 })
    const [small, large] = Buffer.compare(a, v4) < 0 ? [a, v4] : [v4, a]
    expect(select(key, [large, small])).toBe(1)
    expect(select(key, [small, large])).toBe(0)
  })
})
