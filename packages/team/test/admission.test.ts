import { describe, expect, it } from 'vitest'
import {
  createTeamMember,
  InvalidCertificateError,
  NotAMemberError,
  TEAM_ERROR_CODES,
  type TeamMember
} from '../src/index.js'
import { DAY, makeTeam, nodeKey, T0, testClock, thrown } from './helpers.js'

/** The admission contract of @chorus/dht (PeerAdmission), restated: the member must fit it. */
interface PeerAdmissionShape {
  certificate(): Uint8Array
  admit(peerKey: Uint8Array, certificate: Uint8Array): { agent: string; roles: string[]; notAfter: number }
}

describe('admission', () => {
  const team = makeTeam()
  const clock = testClock(T0 + 1000)
  const policy = team.policy({ now: clock.now })

  it('admits a peer whose certificate verifies for its node key', () => {
    const key = nodeKey()
    const cert = team.certificate({
      nodeKey: key,
      agent: 'agent007',
      roles: ['qa_engineer'],
      notAfter: T0 + DAY
    })
    expect(policy.admit(key, cert)).toEqual({ agent: 'agent007', roles: ['qa_engineer'], notAfter: T0 + DAY })
  })

  it('admits a read-only member (readers are members too)', () => {
    const key = nodeKey()
    expect(policy.admit(key, team.certificate({ nodeKey: key, roles: ['observer'] })).roles).toEqual([
      'observer'
    ])
  })

  it('refuses a peer presenting the certificate of another node key', () => {
    const cert = team.certificate({ nodeKey: nodeKey() })
    const err = thrown(NotAMemberError, () => policy.admit(nodeKey(), cert))
    expect(err.reason).toBe('wrong-node-key')
    expect(err.code).toBe(TEAM_ERROR_CODES.NOT_A_MEMBER)
  })

  it('refuses an outsider, garbage and an expired certificate', () => {
    const key = nodeKey()
    expect(
      thrown(NotAMemberError, () => policy.admit(key, makeTeam().certificate({ nodeKey: key }))).reason
    ).toBe('invalid-certificate')
    expect(thrown(NotAMemberError, () => policy.admit(key, new Uint8Array(5000))).reason).toBe(
      'invalid-certificate'
    )
    const short = team.certificate({ nodeKey: key, notAfter: T0 + 2000 })
    clock.set(T0 + 2000)
    expect(thrown(NotAMemberError, () => policy.admit(key, short)).reason).toBe('expired')
    clock.set(T0 + 1000)
  })
})

describe('team member', () => {
  const team = makeTeam()
  const policy = team.policy()

  it("has the PeerAdmission shape: its own certificate, and the policy's admission", () => {
    const own = nodeKey()
    const bytes = team.certificate({ nodeKey: own, agent: 'agent001' })
    const member: TeamMember = createTeamMember({ policy, certificate: bytes })
    const admission: PeerAdmissionShape = member
    expect(member.member.agent).toBe('agent001')
    expect(admission.certificate()).toEqual(bytes)
    admission.certificate().fill(0)
    expect(admission.certificate()).toEqual(bytes)
    const peer = nodeKey()
    expect(admission.admit(peer, team.certificate({ nodeKey: peer, agent: 'agent002' })).agent).toBe(
      'agent002'
    )
    thrown(NotAMemberError, () => admission.admit(peer, bytes))
  })

  it('refuses a certificate that does not verify under the policy', () => {
    const err = thrown(InvalidCertificateError, () =>
      createTeamMember({ policy, certificate: makeTeam().certificate() })
    )
    expect(err.reason).toBe('other-team')
  })
})
