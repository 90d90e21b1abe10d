// The verified-record memo of the record check: each distinct record is decoded and its signature
// verified once; a changed copy is checked in full (and refused); the team's write rule runs on
// every check, and a new manifest empties the memo, so a policy change applies at once. The
// recipient stanza cap refuses a record before any key agreement.
import { createAgeCrypto, createKeyring, createRoleRegistry, generateRoleKey } from '@chorus/crypto'
import {
  createManifest,
  createTeamPolicy,
  generateTeamRoot,
  issueCertificate,
  predefinedTeamRoles,
  rootSigner,
  signManifest,
  teamIdOf
} from '@chorus/team'
import { addressDigest } from '@chorus/ucxl'
import { describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import { encodeEnvelope, sha256 } from '../src/envelope.js'
import { AccessDeniedError, MalformedEnvelopeError } from '../src/errors.js'
import { createRecordCheck, verifiedRecordsOf } from '../src/record-check.js'
import { chorusRecordRules } from '../src/records.js'
import { createVerifiedRecords } from '../src/verified-records.js'
import { BASE, makeSigner, sampleEnvelope } from './helpers.js'

const digest = addressDigest(BASE)

function makeTeam() {
  const root = generateTeamRoot()
  const team = teamIdOf(root.publicKey)
  const key = generateRoleKey('backend_developer')
  const recipients = {
    backend_developer: [{ keyId: key.id, recipient: key.recipient, status: 'current' as const, createdAt: 1 }]
  }
  const manifest = (version: number, roles = predefinedTeamRoles()) =>
    signManifest(createManifest({ team, version, roles, recipients }), rootSigner(root))
  const policy = createTeamPolicy({ root: root.publicKey, manifest: manifest(1) })
  const certificate = (nodeKey: Uint8Array) =>
    issueCertificate(
      { team, agent: 'agent001', roles: ['backend_developer'], nodeKey, recipient: key.recipient, serial: 1 },
      rootSigner(root)
    )
  return { policy, manifest, certificate }
}

describe('verified-record memo', () => {
  it('verifies a record once across checks and keys of one authority; a changed copy is refused', async () => {
    const { policy, certificate } = makeTeam()
    const signer = makeSigner()
    const { bytes, envelope } = await sampleEnvelope(signer, { certificate: certificate(signer.publicKey) })
    const memo = verifiedRecordsOf(policy)
    // two checks built apart (the DHT's validator and storage's) share the authority's memo
    const validate = chorusRecordRules({ authority: policy }).validators.CHORUS!
    const check = createRecordCheck({ authority: policy })
    await validate(new TextEncoder().encode(versionKey(digest, 1)), bytes)
    check(headKey(digest), bytes)
    check(versionKey(digest, 1), Uint8Array.from(bytes))
    expect(memo.stats()).toMatchObject({ verified: 1, hits: 2, entries: 1 })
    // the certificate was judged on every check, verified once
    expect(policy.stats().certificatesVerified + policy.stats().cacheHits).toBe(3)
    expect(policy.stats().certificatesVerified).toBe(1)
    // the memo hands out copies: a caller changing its envelope changes nobody else's
    const a = check(headKey(digest), bytes)
    a.metadata.encryptedFor.push('x')
    expect(check(headKey(digest), bytes).metadata.encryptedFor).toEqual(envelope.metadata.encryptedFor)
    // a mutated copy (the signature no longer covers it) is checked in full and refused
    const edited = encodeEnvelope({ ...envelope, metadata: { ...envelope.metadata, timestamp: 1 } })
    expect(() => check(headKey(digest), edited)).toThrow(/signature/)
    expect(memo.stats().verified).toBe(2)
    // the refusal is remembered: the same bad bytes again cost a hash, not a verification
    expect(() => check(headKey(digest), edited)).toThrow(/signature/)
    expect(memo.stats()).toMatchObject({ verified: 2, entries: 2 })
    // wrong key for the bytes: refused on a memo hit too
    expect(() => check(versionKey(digest, 2), bytes)).toThrow(/version/)
  })

  it('finds a record this node vouched for verified under any limits; the write rule still judges it', async () => {
    const { policy, certificate } = makeTeam()
    const signer = makeSigner()
    const { bytes, envelope } = await sampleEnvelope(signer, { certificate: certificate(signer.publicKey) })
    const memo = createVerifiedRecords()
    memo.vouch(bytes, envelope)
    const tight = createRecordCheck({ authority: policy, verified: memo, maxRecipientStanzas: 1 })
    const loose = createRecordCheck({ authority: policy, verified: memo })
    expect(tight(headKey(digest), bytes).version).toBe(1)
    expect(loose(versionKey(digest, 1), bytes).version).toBe(1)
    expect(memo.stats()).toMatchObject({ verified: 0, hits: 2, entries: 1 })
    expect(policy.stats().certificatesVerified + policy.stats().cacheHits).toBe(2)
    // the key must still fit, and a record nobody vouched for is verified in full
    expect(() => loose(versionKey(digest, 2), bytes)).toThrow(/version/)
    const other = await sampleEnvelope(signer, { certificate: certificate(signer.publicKey) })
    loose(headKey(digest), other.bytes)
    expect(memo.stats().verified).toBe(1)
  })

  it('a new manifest empties the memo and the write rule runs on every hit', async () => {
    const { policy, manifest, certificate } = makeTeam()
    const signer = makeSigner()
    const { bytes } = await sampleEnvelope(signer, { certificate: certificate(signer.publicKey) })
    const shared = createRecordCheck({ authority: policy })
    // a memo of its own, never told of the manifest: the write rule alone must refuse
    const own = createVerifiedRecords()
    const apart = createRecordCheck({ authority: policy, verified: own })
    shared(headKey(digest), bytes)
    apart(headKey(digest), bytes)
    shared(headKey(digest), bytes)
    expect(verifiedRecordsOf(policy).stats()).toMatchObject({ verified: 1, hits: 1 })
    // manifest 2: the same roles, backend_developer can no longer write
    const roles = predefinedTeamRoles()
    roles.backend_developer = { ...roles.backend_developer!, authority: 'read_only' }
    expect(policy.acceptManifest(manifest(2, roles))).toBe(true)
    expect(verifiedRecordsOf(policy).stats().entries).toBe(0)
    expect(() => shared(headKey(digest), bytes)).toThrow(AccessDeniedError)
    expect(verifiedRecordsOf(policy).stats().verified).toBe(2)
    expect(() => apart(headKey(digest), bytes)).toThrow(AccessDeniedError)
    expect(own.stats()).toMatchObject({ verified: 1, hits: 1 })
  })

  it('stays within its entry and byte bounds', async () => {
    const memo = createVerifiedRecords({ maxEntries: 3, maxBytes: 1_000_000 })
    const check = createRecordCheck({ verified: memo })
    const signer = makeSigner()
    for (let v = 1; v <= 5; v++) {
      const { bytes } = await sampleEnvelope(signer, {
        version: v,
        previous: v > 1 ? new Uint8Array(32) : null
      })
      check(versionKey(digest, v), bytes)
    }
    expect(memo.stats().entries).toBe(3)
    const small = createVerifiedRecords({ maxBytes: 1000 })
    const check2 = createRecordCheck({ verified: small })
    for (let v = 1; v <= 5; v++) {
      const { bytes } = await sampleEnvelope(signer, {
        version: v,
        previous: v > 1 ? new Uint8Array(32) : null
      })
      check2(versionKey(digest, v), bytes)
      expect(small.stats().bytes).toBeLessThanOrEqual(1000)
    }
  })
})

describe('recipient stanza cap at validation', () => {
  /** A real age ciphertext for `stanzas` recipients (the writer's own cap lifted). */
  async function ciphertextFor(stanzas: number): Promise<Uint8Array> {
    const keyring = createKeyring()
    for (let i = 0; i < stanzas; i++)
      keyring.addRecipient('backend_developer', generateRoleKey('backend_developer').recipient)
    const crypto = createAgeCrypto({ roles: createRoleRegistry(), keyring }, { maxRecipientStanzas: 10_000 })
    return crypto.encryptForRoles('x', ['backend_developer'])
  }

  it('refuses a record over 128 stanzas as malformed, before its signature is checked', async () => {
    const signer = makeSigner()
    const check = createRecordCheck({ verified: createVerifiedRecords() })
    const at = await ciphertextFor(128)
    check(headKey(digest), (await sampleEnvelope(signer, {}, at)).bytes)
    const over = await ciphertextFor(129)
    const { bytes, envelope } = await sampleEnvelope(signer, {}, over)
    expect(() => check(headKey(digest), bytes)).toThrow(MalformedEnvelopeError)
    // refused as malformed even with a signature that would not verify
    const badSig = encodeEnvelope({ ...envelope, signature: new Uint8Array(64) })
    expect(() => check(headKey(digest), badSig)).toThrow(/recipients within the limit/)
    // a node configured for more accepts it
    createRecordCheck({ maxRecipientStanzas: 200, verified: createVerifiedRecords() })(headKey(digest), bytes)
    expect(sha256(over).byteLength).toBe(32)
  })
})
