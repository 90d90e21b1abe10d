import { generateRoleKey, type IdentityFileEntry } from '@chorus/crypto'
import { describe, expect, it } from 'vitest'
import {
  createKeyGrant,
  decryptKeyGrant,
  generateTeamRoot,
  InvalidGrantError,
  InvalidInputError,
  openKeyGrant,
  rootSigner,
  TEAM_ERROR_CODES,
  TeamRecordError,
  teamGrantKey,
  teamLimits,
  teamRecordSelector,
  teamRecordValidator
} from '../src/index.js'
import { flipBit, makeTeam, rejected, T0, thrown } from './helpers.js'

const encode = (s: string) => new TextEncoder().encode(s)

function setup() {
  const team = makeTeam()
  const member = generateRoleKey('member')
  const roleKeys: IdentityFileEntry[] = [
    { key: generateRoleKey('backend_developer'), status: 'retired' },
    { key: generateRoleKey('backend_developer'), status: 'current' }
  ]
  const grant = (version: number, signer = team.signer, agent = 'agent001', keys = roleKeys) =>
    createKeyGrant(
      { team: team.teamId, agent, version, recipient: member.recipient, keys, issuedAt: T0 },
      signer
    )
  return { team, member, roleKeys, grant }
}

describe('a key grant', () => {
  it('carries the identities encrypted to the member key, listing their roles and ids in the clear', async () => {
    const { team, member, roleKeys, grant } = setup()
    const bytes = await grant(1)
    const opened = openKeyGrant(bytes, team.root.publicKey)
    expect(opened).toMatchObject({ agent: 'agent001', version: 1, recipient: member.recipient })
    expect(opened.keys).toEqual(roleKeys.map((e) => ({ role: 'backend_developer', keyId: e.key.id })))
    // no identity in the clear
    expect(Buffer.from(bytes).toString('latin1')).not.toContain('AGE-SECRET-KEY')
    const entries = await decryptKeyGrant(opened, member)
    expect(entries.map((e) => [e.key.id, e.status, e.key.hasIdentity])).toEqual(
      roleKeys.map((e) => [e.key.id, e.status, true])
    )
  })

  it('does not open with another key, and the policy opens it only from the root or a manifest issuer', async () => {
    const { team, grant } = setup()
    const bytes = await grant(1)
    const opened = openKeyGrant(bytes, team.root.publicKey)
    const err = await rejected(InvalidGrantError, decryptKeyGrant(opened, generateRoleKey('member')))
    expect(err.code).toBe(TEAM_ERROR_CODES.INVALID_GRANT)
    // a grant whose ciphertext was swapped for one to another key lists keys it cannot prove
    const issuer = generateTeamRoot()
    const byIssuer = await grant(2, rootSigner(issuer))
    expect(thrown(InvalidGrantError, () => team.policy().openGrant(byIssuer)).detail).toBe(
      'not signed by the root or an issuer of the team'
    )
    const withIssuer = team.policy({
      manifest: team.manifest({ issuers: [{ name: 'hr', key: issuer.publicKey }] })
    })
    expect(withIssuer.openGrant(byIssuer).version).toBe(2)
    // another team's grant
    const other = makeTeam()
    const foreign = await createKeyGrant(
      {
        team: other.teamId,
        agent: 'agent001',
        version: 1,
        recipient: generateRoleKey('m').recipient,
        keys: setup().roleKeys
      },
      other.signer
    )
    expect(thrown(InvalidGrantError, () => team.policy().openGrant(foreign)).detail).toBe(
      'signed for another team'
    )
  })

  it('is refused when tampered, oversized or out of bounds', async () => {
    const { team, grant } = setup()
    const bytes = await grant(1)
    for (let i = 0; i < bytes.byteLength; i += 37) {
      thrown(InvalidGrantError, () => openKeyGrant(flipBit(bytes, i), team.root.publicKey))
    }
    const big = new Uint8Array(teamLimits.maxGrantBytes + 1)
    expect(thrown(InvalidGrantError, () => openKeyGrant(big, team.root.publicKey)).detail).toBe(
      'over the size limit'
    )
    const tooMany = Array.from({ length: teamLimits.maxGrantKeys + 1 }, () => ({
      key: generateRoleKey('r'),
      status: 'current' as const
    }))
    await rejected(InvalidInputError, grant(1, team.signer, 'agent001', tooMany))
    await rejected(InvalidInputError, grant(1, team.signer, 'agent001', []))
    // a public key only: nothing to grant
    const { roleKeyFromRecipient } = await import('@chorus/crypto')
    const publicOnly = [
      { key: roleKeyFromRecipient('r', generateRoleKey('r').recipient), status: 'current' as const }
    ]
    await rejected(InvalidInputError, grant(1, team.signer, 'agent001', publicOnly))
  })
})

describe('the key grant as a DHT record', () => {
  it("lives under /CHORUS/team/<id>/grants/<agent>: only that agent's grant, highest version wins", async () => {
    const { team, grant } = setup()
    const policy = team.policy()
    const validate = teamRecordValidator(policy)
    const select = teamRecordSelector(policy)
    const key = encode(teamGrantKey(team.teamId, 'agent001'))
    expect(teamGrantKey(team.teamId, 'agent001')).toBe(`/CHORUS/team/${team.teamId}/grants/agent001`)
    thrown(InvalidInputError, () => teamGrantKey(team.teamId, '../x'))
    const v1 = await grant(1)
    const v3 = await grant(3)
    validate(key, v1)
    validate(key, v3)
    // another agent's grant under this agent's key
    const forOther = await grant(9, team.signer, 'agent002')
    expect(thrown(TeamRecordError, () => validate(key, forOther)).reason).toBe('invalid-grant')
    // signed by a key that is not an issuer
    const stranger = await grant(9, rootSigner(generateTeamRoot()))
    expect(thrown(TeamRecordError, () => validate(key, stranger)).reason).toBe('invalid-grant')
    expect(thrown(TeamRecordError, () => validate(key, flipBit(v3, 50))).reason).toBe('invalid-grant')
    expect(
      thrown(TeamRecordError, () => validate(encode(`/CHORUS/team/${team.teamId}/grants/`), v1)).reason
    ).toBe('wrong-key')
    expect(select(key, [v1, forOther, v3, stranger])).toBe(2)
  })
})
