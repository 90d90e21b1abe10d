import { describe, expect, it } from 'vitest'
import { SIGNATURE_BYTES } from '../src/ed25519.js'
import { encodeCanonical, signingBytes } from '../src/encoding.js'
import {
  type AuthoredRecord,
  createTeamPolicy,
  generateTeamRoot,
  InvalidCertificateError,
  InvalidInputError,
  InvalidRevocationsError,
  NotAMemberError,
  openRevocations,
  type RevocationList,
  rootSigner,
  StaleTeamRecordError,
  signRevocations,
  TEAM_ERROR_CODES,
  TeamRecordError,
  teamLimits,
  teamRecordSelector,
  teamRecordValidator,
  teamRevocationsKey,
  WriteDeniedError
} from '../src/index.js'
import { flipBit, makeTeam, nodeKey, T0, testClock, thrown } from './helpers.js'

const ADDRESS = 'ucxl://agent001:backend_developer@project1:task1/decision'
const encode = (s: string) => new TextEncoder().encode(s)

function list(
  team: { teamId: string },
  version: number,
  revoked: RevocationList['revoked'] = []
): RevocationList {
  return { team: team.teamId, version, issuedAt: T0, revoked }
}

function setup() {
  const team = makeTeam()
  const clock = testClock(T0 + 1000)
  const policy = team.policy({ now: clock.now })
  const author = nodeKey()
  const certificate = team.certificate({ nodeKey: author, agent: 'agent001', serial: 7 })
  const record: AuthoredRecord = {
    address: ADDRESS,
    creatorRole: 'backend_developer',
    author,
    certificate,
    timestamp: T0 + 500
  }
  const revokedAt = T0 + 2000
  const revocation = signRevocations(
    list(team, 1, [{ agent: 'agent001', nodeKey: author, serials: [7], revokedAt }]),
    team.signer
  )
  return { team, clock, policy, author, certificate, record, revokedAt, revocation }
}

describe('the revocation list', () => {
  it('round-trips, signed by the root', () => {
    const { team, author, revocation } = setup()
    const opened = openRevocations(revocation, team.root.publicKey)
    expect(opened.version).toBe(1)
    expect(opened.revoked[0]).toMatchObject({ agent: 'agent001', serials: [7], revokedAt: T0 + 2000 })
    expect(opened.revoked[0]?.nodeKey).toEqual(author)
  })

  it('is refused when forged, signed by another key, tampered or oversized', () => {
    const { team, revocation } = setup()
    const other = makeTeam()
    // another team's root cannot sign for this team
    thrown(InvalidInputError, () => signRevocations(list(team, 2), other.signer))
    // a list of another team
    const foreign = signRevocations(list(other, 1), other.signer)
    expect(thrown(InvalidRevocationsError, () => openRevocations(foreign, team.root.publicKey)).detail).toBe(
      'signed for another team'
    )
    // the right team named, the signature made by some other key
    const fields = { team: team.teamId, version: 9, issuedAt: T0, revoked: [] }
    const context = new TextEncoder().encode('CHORUS-TEAM-REVOCATIONS-v1\n')
    const stranger = rootSigner(generateTeamRoot())
    const forged = encodeCanonical({ ...fields, signature: stranger.sign(signingBytes(context, fields)) })
    const err = thrown(InvalidRevocationsError, () => openRevocations(forged, team.root.publicKey))
    expect(err.code).toBe(TEAM_ERROR_CODES.INVALID_REVOCATIONS)
    expect(err.detail).toBe('signature does not verify with the team root')
    // a zero signature, any bit flipped
    const zero = encodeCanonical({ ...fields, signature: new Uint8Array(SIGNATURE_BYTES) })
    thrown(InvalidRevocationsError, () => openRevocations(zero, team.root.publicKey))
    for (let i = 0; i < revocation.byteLength; i += 7) {
      thrown(InvalidRevocationsError, () => openRevocations(flipBit(revocation, i), team.root.publicKey))
    }
    // over the size limit, and over the entry count, before any signature work
    const big = new Uint8Array(teamLimits.maxRevocationBytes + 1)
    expect(thrown(InvalidRevocationsError, () => openRevocations(big, team.root.publicKey)).detail).toBe(
      'over the size limit'
    )
    const many = Array.from({ length: teamLimits.maxRevokedMembers + 1 }, (_, i) => ({
      agent: `a${i}`,
      nodeKey: nodeKey(),
      serials: [i],
      revokedAt: T0
    }))
    thrown(InvalidRevocationsError, () => signRevocations(list(team, 1, many), team.signer))
    const serials = Array.from({ length: teamLimits.maxRevokedSerials + 1 }, (_, i) => i)
    thrown(InvalidRevocationsError, () =>
      signRevocations(
        list(team, 1, [{ agent: 'a', nodeKey: nodeKey(), serials, revokedAt: T0 }]),
        team.signer
      )
    )
  })

  it('takes only a higher version in the policy', () => {
    const { team, policy, revocation } = setup()
    expect(policy.acceptRevocations(revocation)).toBe(true)
    expect(policy.acceptRevocations(revocation)).toBe(false)
    const same = signRevocations({ ...list(team, 1), issuedAt: T0 + 1 }, team.signer)
    const stale = thrown(StaleTeamRecordError, () => policy.acceptRevocations(same))
    expect(stale).toMatchObject({
      kind: 'revocations',
      version: 1,
      current: 1,
      code: TEAM_ERROR_CODES.STALE_RECORD
    })
    expect(policy.acceptRevocations(signRevocations(list(team, 3), team.signer))).toBe(true)
    thrown(StaleTeamRecordError, () => policy.acceptRevocations(signRevocations(list(team, 2), team.signer)))
    expect(policy.revocations?.version).toBe(3)
  })
})

describe('a revoked member', () => {
  it('no longer verifies, even from the certificate cache, and is refused admission', () => {
    const { policy, certificate, author, revocation } = setup()
    policy.verifyCertificate(certificate) // cached now
    expect(policy.admit(author, certificate).agent).toBe('agent001')
    let heard = 0
    policy.onRevocations(() => void heard++)
    policy.acceptRevocations(revocation)
    expect(heard).toBe(1)
    expect(thrown(InvalidCertificateError, () => policy.verifyCertificate(certificate)).reason).toBe(
      'revoked'
    )
    const denied = thrown(NotAMemberError, () => policy.admit(author, certificate))
    expect(denied.reason).toBe('revoked')
    expect(denied.message).not.toContain('agent001')
  })

  it('is matched by node key (any certificate of it) and by agent and serial (another node key)', () => {
    const { team, policy, author, revocation } = setup()
    policy.acceptRevocations(revocation)
    const sameNode = team.certificate({ nodeKey: author, agent: 'renamed', serial: 99 })
    thrown(InvalidCertificateError, () => policy.verifyCertificate(sameNode))
    const sameSerial = team.certificate({ nodeKey: nodeKey(), agent: 'agent001', serial: 7 })
    thrown(InvalidCertificateError, () => policy.verifyCertificate(sameSerial))
    // the same agent id admitted again with a new node key and serial is a member
    const readmitted = team.certificate({ nodeKey: nodeKey(), agent: 'agent001', serial: 8 })
    expect(policy.verifyCertificate(readmitted).agent).toBe('agent001')
  })

  it('keeps the records it signed before revokedAt; later ones and ones without a time are refused', () => {
    const { policy, record, revokedAt, revocation } = setup()
    policy.acceptRevocations(revocation)
    expect(policy.authorizeWrite(record).agent).toBe('agent001')
    expect(policy.authorizeWrite({ ...record, timestamp: revokedAt - 1 }).agent).toBe('agent001')
    for (const timestamp of [revokedAt, revokedAt + 1, Number.NaN, undefined]) {
      const r = { ...record, timestamp } as AuthoredRecord
      expect(thrown(WriteDeniedError, () => policy.authorizeWrite(r)).reason).toBe('revoked')
    }
  })

  it('a policy can start from a revocation list', () => {
    const { team, certificate, revocation } = setup()
    const init = { root: team.root.publicKey, manifest: team.manifest(), now: () => T0 + 1000 }
    expect(createTeamPolicy(init).verifyCertificate(certificate).agent).toBe('agent001')
    const started = createTeamPolicy({ ...init, revocations: revocation })
    expect(started.revocations?.version).toBe(1)
    thrown(InvalidCertificateError, () => started.verifyCertificate(certificate))
    thrown(InvalidRevocationsError, () => createTeamPolicy({ ...init, revocations: flipBit(revocation, 9) }))
  })
})

describe('the revocation list as a DHT record', () => {
  it('lives under /CHORUS/team/<id>/revocations: the highest root-signed version wins, nothing else gets in', () => {
    const { team, policy } = setup()
    const key = encode(teamRevocationsKey(team.teamId))
    expect(teamRevocationsKey(team.teamId)).toBe(`/CHORUS/team/${team.teamId}/revocations`)
    const validate = teamRecordValidator(policy)
    const select = teamRecordSelector(policy)
    const v1 = signRevocations(list(team, 1), team.signer)
    const v2 = signRevocations(list(team, 2), team.signer)
    validate(key, v1)
    validate(key, v2)
    const other = makeTeam()
    const foreign = signRevocations(list(other, 5), other.signer)
    expect(thrown(TeamRecordError, () => validate(key, foreign)).reason).toBe('invalid-revocations')
    // a manifest is not a revocation list, and a revocation list is not a manifest
    expect(thrown(TeamRecordError, () => validate(key, team.manifest({ version: 4 }))).reason).toBe(
      'invalid-revocations'
    )
    expect(thrown(TeamRecordError, () => validate(encode(`/CHORUS/team/${team.teamId}`), v2)).reason).toBe(
      'invalid-manifest'
    )
    // an unknown key under the team's prefix
    for (const k of [`/CHORUS/team/${team.teamId}/other`, `/CHORUS/team/${team.teamId}/revocations/x`]) {
      expect(thrown(TeamRecordError, () => validate(encode(k), v1)).reason).toBe('wrong-key')
    }
    expect(select(key, [v1, foreign, v2, flipBit(v2, 20)])).toBe(2)
    expect(select(key, [foreign])).toBe(0)
  })
})
