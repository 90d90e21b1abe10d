import { EquivocationError, StaleRecordError } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import {
  decodeEnvelope,
  encodeEnvelope,
  isTombstone,
  sha256,
  signEnvelope,
  TOMBSTONE_KIND,
  type UnsignedEnvelope
} from '../src/envelope.js'
import { AccessDeniedError, InvalidEnvelopeError, MalformedEnvelopeError } from '../src/errors.js'
import { chorusRecordRules } from '../src/records.js'
import { chorusSuccession } from '../src/succession.js'
import { createTombstones, type TombstoneSeen } from '../src/tombstones.js'
import { BASE, makeSigner, sampleEnvelope } from './helpers.js'
import { TestTeam } from './team-authority.js'

const enc = new TextEncoder()
const digest = addressDigest(BASE)
const HEAD = headKey(digest)
const empty = new Uint8Array(0)

type Signer = ReturnType<typeof makeSigner>

/** A tombstone by `signer` at `version` after `previous`, as `deleteUCXLContent` writes one. */
function tombstone(
  signer: Signer,
  version: number,
  previous: Uint8Array | null,
  over: Partial<UnsignedEnvelope> = {}
) {
  return signEnvelope(
    {
      format: 2,
      address: BASE,
      version,
      metadata: {
        creatorRole: 'backend_developer',
        encryptedFor: ['backend_developer'],
        contentType: 'decision',
        timestamp: 1_700_000_000_000,
        size: 0,
        ciphertextHash: sha256(empty)
      },
      ciphertext: empty,
      author: signer.publicKey,
      certificate: null,
      previous,
      kind: TOMBSTONE_KIND,
      purgeVersions: false,
      ...over
    },
    signer
  )
}

function verdict(held: Uint8Array, incoming: Uint8Array, key = HEAD, authority?: unknown): string {
  try {
    chorusSuccession(authority === undefined ? {} : { authority })(enc.encode(key), held, incoming)
    return 'replace'
  } catch (err) {
    if (StaleRecordError.isInstance(err)) return 'stale'
    if (EquivocationError.isInstance(err)) return 'equivocation'
    throw err
  }
}

describe('tombstone envelopes', () => {
  it('round-trip with their kind and purge flag signed; content envelopes encode as before (no kind field)', async () => {
    const s = makeSigner()
    const v1 = await sampleEnvelope(s)
    expect(Object.keys(decodeEnvelope(v1.bytes))).not.toContain('kind')
    expect(isTombstone(decodeEnvelope(v1.bytes))).toBe(false)
    const t = await tombstone(s, 2, v1.hash, { purgeVersions: true })
    const back = decodeEnvelope(t.bytes)
    expect(isTombstone(back)).toBe(true)
    expect(back.purgeVersions).toBe(true)
    expect(encodeEnvelope(back)).toEqual(t.bytes)
    // flipping the purge flag after signing breaks the signature
    const flipped = encodeEnvelope({ ...t.envelope, purgeVersions: false })
    await expect(
      (async () => chorusRecordRules().validators.CHORUS!(enc.encode(HEAD), flipped))()
    ).rejects.toThrow(InvalidEnvelopeError)
  })

  it('refuses a tombstone with content, at version 1, or of an unknown kind', async () => {
    const s = makeSigner()
    const v1 = await sampleEnvelope(s)
    const withContent = await tombstone(s, 2, v1.hash, {
      ciphertext: new Uint8Array([1, 2, 3]),
      metadata: { ...v1.envelope.metadata, size: 0, ciphertextHash: sha256(new Uint8Array([1, 2, 3])) }
    })
    expect(() => decodeEnvelope(withContent.bytes)).toThrow(MalformedEnvelopeError)
    const first = await tombstone(s, 1, null)
    expect(() => decodeEnvelope(first.bytes)).toThrow(MalformedEnvelopeError)
    const t = await tombstone(s, 2, v1.hash)
    const other = encodeEnvelope({ ...t.envelope, kind: 'purged' as typeof TOMBSTONE_KIND })
    expect(() => decodeEnvelope(other)).toThrow(MalformedEnvelopeError)
  })

  it('refuses a forged tombstone (signed by another key than it names) and one by a member not allowed to write the address', async () => {
    const team = new TestTeam()
    const owner = makeSigner()
    const rules = chorusRecordRules({ authority: team.authority })
    const validate = rules.validators.CHORUS!
    const cert = team.issue('agent001', ['backend_developer'], owner.publicKey)
    const v1 = await sampleEnvelope(owner, { certificate: cert })
    await validate(enc.encode(versionKey(digest, 1)), v1.bytes)
    // the owner's tombstone passes the write rule
    const good = await tombstone(owner, 2, v1.hash, { certificate: cert })
    await validate(enc.encode(HEAD), good.bytes)
    // forged: names the owner as author and carries its certificate, signed by another key
    const thief = makeSigner()
    const forged = await tombstone(thief, 2, v1.hash, { certificate: cert, author: owner.publicKey })
    await expect((async () => validate(enc.encode(HEAD), forged.bytes))()).rejects.toThrow(
      InvalidEnvelopeError
    )
    // a member of the team whose certificate does not cover this address (another agent)
    const member = makeSigner()
    const memberCert = team.issue('agent002', ['backend_developer', 'senior_architect'], member.publicKey)
    const notAllowed = await tombstone(member, 2, v1.hash, { certificate: memberCert })
    await expect((async () => validate(enc.encode(HEAD), notAllowed.bytes))()).rejects.toThrow(
      AccessDeniedError
    )
  })

  it('succession: a tombstone is the next version; one that is not next, or replayed after a later write, does not replace the head', async () => {
    const s = makeSigner()
    const v1 = await sampleEnvelope(s)
    const v2 = await sampleEnvelope(s, { version: 2, previous: v1.hash })
    const t3 = await tombstone(s, 3, v2.hash)
    expect(verdict(v2.bytes, t3.bytes)).toBe('replace')
    // not next: the same version as the held head, or chained to another predecessor
    expect(verdict(v2.bytes, (await tombstone(s, 2, v1.hash)).bytes)).toBe('equivocation')
    expect(verdict(v2.bytes, (await tombstone(s, 3, v1.hash)).bytes)).toBe('equivocation')
    // a tombstone by another author after the held head (open mode) is refused
    expect(verdict(v2.bytes, (await tombstone(makeSigner(), 3, v2.hash)).bytes)).toBe('equivocation')
    // a write after the tombstone is version 4; replaying the tombstone then is stale
    const v4 = await sampleEnvelope(s, { version: 4, previous: t3.hash })
    expect(verdict(t3.bytes, v4.bytes)).toBe('replace')
    expect(verdict(v4.bytes, t3.bytes)).toBe('stale')
    // the tombstone's version key is immutable like any version
    expect(
      verdict(
        t3.bytes,
        (await tombstone(s, 3, v2.hash, { purgeVersions: true })).bytes,
        versionKey(digest, 3)
      )
    ).toBe('equivocation')
  })

  it('the validator reports valid tombstones and, while a purge stands, refuses the purged versions as stale', async () => {
    const s = makeSigner()
    const tombstones = createTombstones()
    const seen: TombstoneSeen[] = []
    tombstones.subscribe((x) => seen.push(x))
    const validate = chorusRecordRules({ tombstones }).validators.CHORUS!
    const v1 = await sampleEnvelope(s)
    const v2 = await sampleEnvelope(s, { version: 2, previous: v1.hash })
    const t3 = await tombstone(s, 3, v2.hash, { purgeVersions: true })
    await validate(enc.encode(versionKey(digest, 1)), v1.bytes)
    await validate(enc.encode(HEAD), t3.bytes)
    expect(seen.map((x) => [x.digest, x.envelope.version, x.envelope.purgeVersions])).toEqual([
      [digest, 3, true]
    ])
    // storage marks the purge once it accepted the tombstone
    tombstones.markPurged(digest, 3)
    await expect((async () => validate(enc.encode(versionKey(digest, 1)), v1.bytes))()).rejects.toThrow(
      StaleRecordError
    )
    await expect((async () => validate(enc.encode(versionKey(digest, 2)), v2.bytes))()).rejects.toThrow(
      StaleRecordError
    )
    // the tombstone itself and a later write are taken
    await validate(enc.encode(versionKey(digest, 3)), t3.bytes)
    const v4 = await sampleEnvelope(s, { version: 4, previous: t3.hash })
    await validate(enc.encode(versionKey(digest, 4)), v4.bytes)
  })
})
