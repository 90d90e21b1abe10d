import { describe, expect, it } from 'vitest'
import {
  combineTeamRootShares,
  createManifest,
  generateTeamRoot,
  InvalidInputError,
  InvalidSharesError,
  openManifest,
  SignerWipedError,
  signManifest,
  splitTeamRoot,
  type TeamSigner,
  teamIdOf,
  withTeamRoot
} from '../src/index.js'
import { rejected, thrown } from './helpers.js'

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]]
  return items.flatMap((x, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [x, ...rest]))
}

function payloadOf(share: string): string {
  return share.split(':')[4] ?? ''
}

describe('Shamir shares of the team root', () => {
  it('names the format, team, threshold and index in each share', async () => {
    const root = generateTeamRoot()
    const shares = await splitTeamRoot(root)
    expect(shares).toHaveLength(5)
    shares.forEach((s, i) => {
      expect(s).toMatch(
        new RegExp(`^chorus-team-share-v1:${teamIdOf(root.publicKey)}:3:${i + 1}:[A-Za-z0-9_-]{44}$`)
      )
    })
    // The seed is not in any share, and the caller's root is untouched.
    expect(root.privateKey.some((b) => b !== 0)).toBe(true)
  })

  it('combines any 3 of 5 into the same root, and more than 3 too', async () => {
    const root = generateTeamRoot()
    const shares = await splitTeamRoot(root, { shares: 5, threshold: 3 })
    const all = subsets(shares, 3)
    expect(all).toHaveLength(10)
    for (const three of all) {
      const got = await combineTeamRootShares(three)
      expect(got.publicKey).toEqual(root.publicKey)
      expect(got.privateKey).toEqual(root.privateKey)
    }
    expect((await combineTeamRootShares(shares)).privateKey).toEqual(root.privateKey)
  })

  it('refuses 2 of them (below the threshold)', async () => {
    const shares = await splitTeamRoot(generateTeamRoot())
    for (const two of subsets(shares, 2)) {
      expect((await rejected(InvalidSharesError, combineTeamRootShares(two))).reason).toBe('too-few')
    }
    expect((await rejected(InvalidSharesError, combineTeamRootShares([]))).reason).toBe('too-few')
  })

  it('refuses shares of two teams', async () => {
    const a = await splitTeamRoot(generateTeamRoot())
    const b = await splitTeamRoot(generateTeamRoot())
    const err = await rejected(InvalidSharesError, combineTeamRootShares([a[0]!, a[1]!, b[2]!]))
    expect(err.reason).toBe('mixed-teams')
  })

  it('refuses a share given twice, by text or by index', async () => {
    const s = await splitTeamRoot(generateTeamRoot())
    expect((await rejected(InvalidSharesError, combineTeamRootShares([s[0]!, s[0]!, s[1]!]))).reason).toBe(
      'duplicate'
    )
    const relabelled = s[0]!.replace(/:1:([^:]+)$/, ':4:$1')
    expect(
      (await rejected(InvalidSharesError, combineTeamRootShares([s[0]!, relabelled, s[1]!]))).reason
    ).toBe('duplicate')
  })

  it('refuses shares that name different thresholds', async () => {
    const s = await splitTeamRoot(generateTeamRoot())
    const other = s[2]!.replace(':3:3:', ':2:3:')
    expect((await rejected(InvalidSharesError, combineTeamRootShares([s[0]!, s[1]!, other]))).reason).toBe(
      'mixed-thresholds'
    )
  })

  it('refuses a corrupted share: the combined key is not the team id', async () => {
    const root = generateTeamRoot()
    const s = await splitTeamRoot(root)
    const payload = Buffer.from(payloadOf(s[1]!), 'base64url')
    payload[5] = (payload[5] ?? 0) ^ 0x01 // one bit of the share value, not of its x coordinate
    const corrupted = s[1]!.replace(payloadOf(s[1]!), payload.toString('base64url'))
    const err = await rejected(InvalidSharesError, combineTeamRootShares([s[0]!, corrupted, s[2]!]))
    expect(err.reason).toBe('wrong-key')
    expect(err.message).not.toContain(payloadOf(s[0]!))
  })

  it('refuses malformed text without echoing it', async () => {
    const s = await splitTeamRoot(generateTeamRoot())
    for (const bad of [
      'hello',
      s[0]!.replace('chorus-team-share-v1', 'chorus-team-share-v2'),
      s[0]!.replace(/:3:1:/, ':1:1:'), // threshold below 2
      s[0]!.replace(/:3:1:/, ':3:0:'), // index 0
      `${s[0]!}A`, // 45 characters of payload
      s[0]!.slice(0, -1) // 43
    ]) {
      const err = await rejected(InvalidSharesError, combineTeamRootShares([bad, s[1]!, s[2]!]))
      expect(err.reason).toBe('malformed')
      expect(err.message).not.toContain(payloadOf(s[1]!))
    }
    await rejected(InvalidSharesError, combineTeamRootShares('x' as unknown as string[]))
  })

  it('checks the counts it splits with', async () => {
    const root = generateTeamRoot()
    await rejected(InvalidInputError, splitTeamRoot(root, { shares: 3, threshold: 4 }))
    await rejected(InvalidInputError, splitTeamRoot(root, { shares: 5, threshold: 1 }))
    await rejected(InvalidInputError, splitTeamRoot(root, { shares: 256, threshold: 3 }))
    const two = await splitTeamRoot(root, { shares: 2, threshold: 2 })
    expect((await combineTeamRootShares(two)).publicKey).toEqual(root.publicKey)
  })
})

describe('withTeamRoot', () => {
  it('signs one manifest with 3 shares, then the signer refuses to sign again', async () => {
    const root = generateTeamRoot()
    const shares = await splitTeamRoot(root)
    const team = teamIdOf(root.publicKey)
    let kept: TeamSigner | undefined
    const bytes = await withTeamRoot([shares[4]!, shares[0]!, shares[2]!], async (signer) => {
      kept = signer
      expect(signer.publicKey).toEqual(root.publicKey)
      return signManifest(createManifest({ team }), signer)
    })
    expect(openManifest(bytes, root.publicKey).team).toBe(team)
    thrown(SignerWipedError, () => kept?.sign(new Uint8Array(1)))
  })

  it('wipes the seed even when the step fails', async () => {
    const shares = await splitTeamRoot(generateTeamRoot())
    let kept: TeamSigner | undefined
    await expect(
      withTeamRoot(shares, async (signer) => {
        kept = signer
        throw new Error('step failed')
      })
    ).rejects.toThrow('step failed')
    thrown(SignerWipedError, () => kept?.sign(new Uint8Array(1)))
  })

  it('does not run the step with too few shares', async () => {
    const shares = await splitTeamRoot(generateTeamRoot())
    let ran = false
    await rejected(
      InvalidSharesError,
      withTeamRoot(shares.slice(0, 2), async () => {
        ran = true
      })
    )
    expect(ran).toBe(false)
  })
})
