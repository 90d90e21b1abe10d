import { generateRoleKey, keyIdOf } from '@chorus/crypto'
import { describe, expect, it } from 'vitest'
import {
  createManifest,
  InvalidInputError,
  InvalidManifestError,
  openManifest,
  rotateRoleKey,
  signManifest
} from '../src/index.js'
import { DAY, makeTeam, T0, testClock, thrown } from './helpers.js'

const HOUR = 60 * 60 * 1000

function setup() {
  const team = makeTeam()
  const first = generateRoleKey('backend_developer').recipient
  const manifest = team.manifest({
    recipients: {
      backend_developer: [{ keyId: keyIdOf(first), recipient: first, status: 'current', createdAt: T0 }]
    }
  })
  const clock = testClock(T0 + DAY)
  const policy = team.policy({ manifest, now: clock.now })
  const sign = (init: ReturnType<typeof rotateRoleKey>) => signManifest(createManifest(init), team.signer)
  return { team, first, manifest, clock, policy, sign }
}

describe('rotating a role key in the manifest', () => {
  it('makes the new key current and retires the old one at once without an overlap', () => {
    const { policy, first, clock, sign } = setup()
    const next = generateRoleKey('backend_developer').recipient
    const v2 = sign(
      rotateRoleKey(policy.manifest, { role: 'backend_developer', recipient: next, now: clock.now() })
    )
    expect(policy.acceptManifest(v2)).toBe(true)
    expect(policy.manifest.version).toBe(2)
    expect(policy.recipients('backend_developer')).toEqual([next])
    expect(policy.retiredRecipients('backend_developer')).toEqual([first])
    const old = policy.manifest.recipients.backend_developer?.find((k) => k.recipient === first)
    expect(old).toMatchObject({ status: 'retired', retiredAt: clock.now() })
    expect(old?.overlapUntil).toBeUndefined()
  })

  it('keeps the old key receiving new content within an overlap window, then not', () => {
    const { policy, first, clock, sign } = setup()
    const next = generateRoleKey('backend_developer').recipient
    const v2 = sign(
      rotateRoleKey(policy.manifest, {
        role: 'backend_developer',
        recipient: next,
        now: clock.now(),
        overlap: HOUR
      })
    )
    policy.acceptManifest(v2)
    expect(new Set(policy.recipients('backend_developer'))).toEqual(new Set([first, next]))
    clock.set(clock.now() + HOUR - 1)
    expect(policy.recipients('backend_developer')).toHaveLength(2)
    clock.set(clock.now() + 1)
    expect(policy.recipients('backend_developer')).toEqual([next])
  })

  it('a rotation without an overlap (a revocation) ends the overlap still running', () => {
    const { policy, first, clock, sign } = setup()
    const second = generateRoleKey('backend_developer').recipient
    policy.acceptManifest(
      sign(
        rotateRoleKey(policy.manifest, {
          role: 'backend_developer',
          recipient: second,
          now: clock.now(),
          overlap: DAY
        })
      )
    )
    clock.set(clock.now() + HOUR)
    const third = generateRoleKey('backend_developer').recipient
    policy.acceptManifest(
      sign(rotateRoleKey(policy.manifest, { role: 'backend_developer', recipient: third, now: clock.now() }))
    )
    expect(policy.recipients('backend_developer')).toEqual([third])
    expect(new Set(policy.retiredRecipients('backend_developer'))).toEqual(new Set([first, second]))
    // the first key keeps its original retirement time
    expect(policy.manifest.recipients.backend_developer?.[0]).toMatchObject({
      recipient: first,
      retiredAt: T0 + DAY
    })
  })

  it('refuses an unknown role, a key the role already has, and bad times', () => {
    const { policy, first } = setup()
    const next = generateRoleKey('x').recipient
    thrown(InvalidInputError, () => rotateRoleKey(policy.manifest, { role: 'no_such_role', recipient: next }))
    thrown(InvalidInputError, () =>
      rotateRoleKey(policy.manifest, { role: 'backend_developer', recipient: first })
    )
    thrown(InvalidInputError, () =>
      rotateRoleKey(policy.manifest, { role: 'backend_developer', recipient: next, overlap: -1 })
    )
  })

  it('the manifest refuses retirement fields on a current key and an overlap that ends before retirement', () => {
    const { team } = setup()
    const r = generateRoleKey('backend_developer').recipient
    const base = { keyId: keyIdOf(r), recipient: r, createdAt: T0 }
    for (const bad of [
      { ...base, status: 'current' as const, retiredAt: T0 },
      { ...base, status: 'retired' as const, overlapUntil: T0 },
      { ...base, status: 'retired' as const, retiredAt: T0 + 10, overlapUntil: T0 }
    ]) {
      thrown(InvalidManifestError, () =>
        createManifest({ team: team.teamId, recipients: { backend_developer: [bad] } })
      )
    }
    // a manifest with the fields opens (signed and checked again)
    const ok = team.manifest({
      recipients: {
        backend_developer: [{ ...base, status: 'retired', retiredAt: T0, overlapUntil: T0 + 5 }]
      }
    })
    expect(openManifest(ok, team.root.publicKey).recipients.backend_developer?.[0]?.overlapUntil).toBe(T0 + 5)
  })
})
