import { describe, expect, it } from 'vitest'
import {
  type AuthoredRecord,
  generateTeamRoot,
  predefinedTeamRoles,
  rootSigner,
  TEAM_ERROR_CODES,
  type WriteDenial,
  WriteDeniedError
} from '../src/index.js'
import { DAY, makeTeam, nodeKey, T0, testClock, thrown } from './helpers.js'

const ADDRESS = 'ucxl://agent001:backend_developer@project1:task1/decision'

function setup() {
  const team = makeTeam()
  const clock = testClock(T0 + 1000)
  const policy = team.policy({ now: clock.now })
  const author = nodeKey()
  const certificate = team.certificate({
    nodeKey: author,
    agent: 'agent001',
    roles: ['backend_developer', 'observer']
  })
  const record: AuthoredRecord = { address: ADDRESS, creatorRole: 'backend_developer', author, certificate }
  return { team, clock, policy, author, certificate, record }
}

function denied(fn: () => unknown): WriteDenial {
  const err = thrown(WriteDeniedError, fn)
  expect(err.code).toBe(TEAM_ERROR_CODES.WRITE_DENIED)
  return err.reason
}

describe('the write rule', () => {
  it('allows a member to write at its own agent in a role of its certificate that may write', () => {
    const { policy, record, author } = setup()
    const c = policy.authorizeWrite(record)
    expect(c.agent).toBe('agent001')
    expect(c.nodeKey).toEqual(author)
    // Without a path, and with a path of several segments.
    policy.authorizeWrite({ ...record, address: 'ucxl://agent001:backend_developer@project1:task1' })
    policy.authorizeWrite({ ...record, address: 'ucxl://agent001:backend_developer@p:t/docs/a/b' })
  })

  it('refuses a record without a certificate', () => {
    const { policy, record } = setup()
    expect(denied(() => policy.authorizeWrite({ ...record, certificate: null }))).toBe('no-certificate')
  })

  it('refuses a certificate that does not verify, of another team, or by an unknown issuer', () => {
    const { policy, record, author } = setup()
    const broken = record.certificate!.slice()
    broken[broken.byteLength - 1]! ^= 1
    expect(denied(() => policy.authorizeWrite({ ...record, certificate: broken }))).toBe(
      'invalid-certificate'
    )
    const other = makeTeam().certificate({ nodeKey: author })
    expect(denied(() => policy.authorizeWrite({ ...record, certificate: other }))).toBe('invalid-certificate')
    expect(denied(() => policy.authorizeWrite({ ...record, certificate: new Uint8Array([0xa0]) }))).toBe(
      'invalid-certificate'
    )
  })

  it('refuses an expired and a not-yet-valid certificate', () => {
    const { policy, record, clock } = setup()
    clock.set(T0 + 30 * DAY)
    expect(denied(() => policy.authorizeWrite(record))).toBe('expired')
    clock.set(T0 - 1)
    expect(denied(() => policy.authorizeWrite(record))).toBe('not-yet-valid')
  })

  it('refuses a record whose author is not the node key of the certificate', () => {
    const { policy, record } = setup()
    expect(denied(() => policy.authorizeWrite({ ...record, author: nodeKey() }))).toBe('wrong-node-key')
    expect(denied(() => policy.authorizeWrite({ ...record, author: new Uint8Array(0) }))).toBe(
      'wrong-node-key'
    )
  })

  it('refuses an address of another agent', () => {
    const { policy, record } = setup()
    const address = 'ucxl://agent002:backend_developer@project1:task1/decision'
    expect(denied(() => policy.authorizeWrite({ ...record, address }))).toBe('wrong-agent')
  })

  it('refuses an address role the certificate does not grant', () => {
    const { policy, record } = setup()
    const address = 'ucxl://agent001:devops_engineer@project1:task1/decision'
    expect(denied(() => policy.authorizeWrite({ ...record, address, creatorRole: 'devops_engineer' }))).toBe(
      'wrong-role'
    )
  })

  it('refuses a creator role other than the address role', () => {
    const { policy, record } = setup()
    expect(denied(() => policy.authorizeWrite({ ...record, creatorRole: 'observer' }))).toBe('creator-role')
  })

  it('refuses a role that is read-only in the manifest', () => {
    const { policy, record } = setup()
    const address = 'ucxl://agent001:observer@project1:task1/decision'
    expect(denied(() => policy.authorizeWrite({ ...record, address, creatorRole: 'observer' }))).toBe(
      'read-only'
    )
  })

  it('follows the manifest: a role made read-only by a newer manifest stops writing', () => {
    const { team, policy, record } = setup()
    const roles = predefinedTeamRoles()
    roles.backend_developer = { ...roles.backend_developer!, authority: 'read_only' }
    policy.acceptManifest(team.manifest({ version: 2, roles }))
    expect(denied(() => policy.authorizeWrite(record))).toBe('read-only')
  })

  it('refuses a certificate naming a role the manifest no longer defines', () => {
    const { team, policy, record } = setup()
    const { observer: _gone, ...roles } = predefinedTeamRoles()
    policy.acceptManifest(team.manifest({ version: 2, roles }))
    expect(denied(() => policy.authorizeWrite(record))).toBe('unknown-role')
  })

  it('refuses wildcard, temporal, non-canonical and unparsable addresses', () => {
    const { policy, record } = setup()
    for (const address of [
      'ucxl://any:backend_developer@project1:task1/decision',
      'ucxl://agent001:backend_developer@any:task1/decision',
      'ucxl://agent001:backend_developer@project1:*/decision',
      'ucxl://agent001:backend_developer@project1:task1/*^/decision',
      'ucxl://agent001:backend_developer@project1:task1/*~3/decision',
      'UCXL://agent001:backend_developer@project1:task1/decision',
      'ucxl://agent001/backend_developer/project1/task1/decision',
      'ucxl://agent001:backend_developer@project1:task1//decision',
      'not an address',
      42 as unknown as string
    ]) {
      expect(
        denied(() => policy.authorizeWrite({ ...record, address })),
        address
      ).toBe('invalid-address')
    }
  })

  it('never echoes the input in its message', () => {
    const { policy, record } = setup()
    const address = 'ucxl://agent002:backend_developer@secret-project:task1/decision'
    const err = thrown(WriteDeniedError, () => policy.authorizeWrite({ ...record, address }))
    expect(err.message).not.toContain('agent002')
    expect(err.message).not.toContain('secret-project')
  })

  it('takes a certificate of an issuer the manifest names', () => {
    const { team, author } = setup()
    const issuer = generateTeamRoot()
    const policy = team.policy({
      manifest: team.manifest({ issuers: [{ name: 'hr', key: issuer.publicKey }] })
    })
    const certificate = team.certificate({ nodeKey: author }, rootSigner(issuer))
    expect(
      policy.authorizeWrite({ address: ADDRESS, creatorRole: 'backend_developer', author, certificate })
        .issuer
    ).toEqual(issuer.publicKey)
  })
})
