// Bounded costs on hostile input: what one worst-case record costs a receiving node, before and
// after the bounds, measured on every run and written to RELIABILITY.md.
//
// The worst record a member could write before: an age ciphertext with about 11,000 X25519
// recipient stanzas (a full 1 MiB record), signed by a real team member. A reader tries every
// stanza with every identity it holds, one X25519 agreement each, in one synchronous block.
// Before = that cost measured on the raw primitive (the unwrap loop the reader ran, with
// node:crypto) and the old validation (no stanza cap); after = what the real node spends: the
// record check refuses it before any key agreement, a reader refuses it before any unwrap, the
// worst record still accepted (128 stanzas) opens in slices that never hold the event loop long,
// and a received record is verified once however many paths it takes in.
import {
  createDecipheriv,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject
} from 'node:crypto'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createAgeCrypto, createKeyring, createRoleRegistry, generateRoleKey } from '@chorus/crypto'
import type { LibP2PDHT } from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import {
  chorusRecordRules,
  decodeEnvelope,
  ENVELOPE_FORMAT,
  type EncryptedStorage,
  headKey,
  RECORD_PROTOCOL,
  signEnvelope,
  verifiedRecordsOf,
  verifyEnvelope,
  type WriteAuthority
} from '@chorus/storage'
import {
  createManifest,
  createTeamPolicy,
  generateTeamRoot,
  issueCertificate,
  type RoleRecipient,
  rootSigner,
  signManifest,
  type TeamPolicy,
  teamIdOf
} from '@chorus/team'
import { addressDigest, baseAddress, parseAddress } from '@chorus/ucxl'
import { decode as cborDecode, encode as cborEncode } from 'cborg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeCrypto, startStorage, teamKeys, tempDir } from './helpers.js'
import { createReport } from './report.js'

const report = createReport('bounds')
/** About what fits in one 1 MiB + 128 KiB record: each stanza is about 98 bytes of header. */
const HOSTILE_STANZAS = 11_000
const CAP = 128
const enc = new TextEncoder()

/** Runs `work` and returns its total time and the longest the event loop went without a turn. */
async function timed<T>(
  work: () => Promise<T> | T
): Promise<{ total: number; block: number; result: T | Error }> {
  let last = performance.now()
  let block = 0
  let done = false
  const tick = (): void => {
    const now = performance.now()
    block = Math.max(block, now - last)
    last = now
    if (!done) setImmediate(tick)
  }
  setImmediate(tick)
  const start = performance.now()
  let result: T | Error
  try {
    result = await work()
  } catch (err) {
    result = err as Error
  }
  const end = performance.now()
  done = true
  block = Math.max(block, end - last)
  return { total: end - start, block, result }
}

/**
 * The reader's unwrap loop as it ran before the bounds, on node:crypto: for each identity, every
 * X25519 stanza (import the share, agree, HKDF, open the wrapped key), synchronously. Returns the
 * attempts made.
 */
function bareUnwrapLoop(
  ciphertext: Uint8Array,
  identities: Array<{ privateKey: KeyObject; publicRaw: Buffer }>
): number {
  const text = Buffer.from(ciphertext).toString('latin1')
  const lines = text.slice(0, text.indexOf('\n---')).split('\n')
  const stanzas: Array<{ share: Buffer; body: Buffer }> = []
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? ''
    if (l.startsWith('-> X25519 ')) {
      stanzas.push({
        share: Buffer.from(l.slice(10), 'base64'),
        body: Buffer.from(lines[i + 1] ?? '', 'base64')
      })
    }
  }
  const spki = Buffer.from('302a300506032b656e032100', 'hex')
  const label = Buffer.from('age-encryption.org/v1/X25519')
  let attempts = 0
  for (const id of identities) {
    for (const s of stanzas) {
      attempts++
      // as the reader imported shares: a PEM string (the fastest import node:crypto offers)
      const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([spki, s.share]).toString('base64')}\n-----END PUBLIC KEY-----\n`
      const secret = diffieHellman({ privateKey: id.privateKey, publicKey: createPublicKey(pem) })
      const wrapKey = hkdf(secret, Buffer.concat([s.share, id.publicRaw]), label)
      const d = createDecipheriv('chacha20-poly1305', wrapKey, Buffer.alloc(12), { authTagLength: 16 })
      d.setAuthTag(s.body.subarray(16))
      d.update(s.body.subarray(0, 16))
      try {
        d.final()
        return attempts
      } catch {
        // not ours: the next stanza
      }
    }
  }
  return attempts
}

/** HKDF-SHA256 with one block of output, on one-shot HMACs (as the reader's own HKDF). */
function hkdf(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
  const prk = createHmac('sha256', salt).update(ikm).digest()
  return createHmac('sha256', prk)
    .update(info)
    .update(Buffer.from([1]))
    .digest()
}

/** A ciphertext for `stanzas` fresh recipients of backend_developer (the writer's cap lifted). */
async function hostileCiphertext(stanzas: number): Promise<Uint8Array> {
  const keyring = createKeyring()
  for (let i = 0; i < stanzas; i++) {
    keyring.addRecipient('backend_developer', generateRoleKey('backend_developer').recipient)
  }
  const crypto = createAgeCrypto({ roles: createRoleRegistry(), keyring }, { maxRecipientStanzas: 1_000_000 })
  return crypto.encryptForRoles('worst case', ['backend_developer'])
}

describe('hostile-input bounds (a team member writes the worst record it can)', () => {
  const keys = teamKeys()
  const tmp = tempDir('chorus-rel-bounds-')
  const root = generateTeamRoot()
  const team = teamIdOf(root.publicKey)
  const recipients: Record<string, RoleRecipient[]> = {}
  for (const [role, key] of keys) {
    recipients[role] = [{ keyId: key.id, recipient: key.recipient, status: 'current', createdAt: Date.now() }]
  }
  const manifest = signManifest(createManifest({ team, recipients }), rootSigner(root))
  const policies: TeamPolicy[] = [0, 1].map(() => createTeamPolicy({ root: root.publicKey, manifest }))
  // the receiver's authority counts how often the write rule judged a record: one per check
  let judged = 0
  const authorities: WriteAuthority[] = [
    {
      authorizeWrite: (r) => {
        judged++
        return policies[0]!.authorizeWrite(r)
      },
      onManifest: (l) => policies[0]!.onManifest(l)
    },
    policies[1]!
  ]
  let net: TestNetwork
  let receiver: LibP2PDHT
  let writer: LibP2PDHT
  const storages: EncryptedStorage[] = []
  const certificates: Uint8Array[] = []
  const plays = ['backend_developer', 'backend_developer']

  /**
   * A direct-protocol request from the writer to the receiver, dialled again once: generating an
   * 11,000-stanza ciphertext holds the test's event loop for seconds, which may drop the connection.
   */
  const pushTo = async (protocol: string, body: Uint8Array): Promise<Uint8Array> => {
    try {
      return await writer.request(receiver.peerId, protocol, body)
    } catch {
      await writer.libp2p.dial(receiver.libp2p.peerId, { signal: AbortSignal.timeout(10_000) })
      return writer.request(receiver.peerId, protocol, body)
    }
  }

  /** A record at writer's address, signed by the writer (a real member), over `ciphertext`. */
  const record = async (ciphertext: Uint8Array, path: string) => {
    const address = baseAddress(parseAddress(`ucxl://agent002:backend_developer@bounds:hostile/${path}`))
    const { bytes } = await signEnvelope(
      {
        format: ENVELOPE_FORMAT,
        address,
        version: 1,
        metadata: {
          creatorRole: 'backend_developer',
          encryptedFor: ['backend_developer'],
          contentType: 'decision',
          timestamp: Date.now(),
          size: 10,
          ciphertextHash: new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', ciphertext))
        },
        ciphertext,
        author: writer.signer.publicKey,
        certificate: certificates[1]!,
        previous: null
      },
      writer.signer
    )
    return { key: headKey(addressDigest(parseAddress(address))), bytes }
  }

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 2,
      init: (i) => ({
        records: chorusRecordRules({ authority: authorities[i] }),
        reputation: { threshold: 1_000_000 }
      })
    })
    ;[receiver, writer] = net.nodes as [LibP2PDHT, LibP2PDHT]
    for (let i = 0; i < 2; i++) {
      const node = net.nodes[i]!
      certificates.push(
        issueCertificate(
          {
            team,
            agent: `agent00${i + 1}`,
            roles: [plays[i]!],
            nodeKey: node.signer.publicKey,
            recipient: keys.get('observer')!.recipient,
            serial: i + 1
          },
          rootSigner(root)
        )
      )
      storages.push(
        await startStorage({
          dht: node,
          signer: node.signer,
          keys,
          plays: [plays[i]!],
          authority: authorities[i],
          certificate: () => certificates[i],
          init: { dataDir: join(tmp.dir, `node${i}`), nodeId: node.peerId, writeQuorum: 1 }
        })
      )
    }
  }, 120_000)

  afterAll(async () => {
    report.flush()
    await Promise.allSettled(storages.map((s) => s.stop()))
    await net?.stop()
    tmp.remove()
  }, 60_000)

  it('an 11,000-stanza record: refused at validation and by readers before any key agreement', async () => {
    const ciphertext = await hostileCiphertext(HOSTILE_STANZAS)
    const hostile = await record(ciphertext, 'stanzas')
    expect(hostile.bytes.byteLength).toBeLessThan(1024 * 1024 + 128 * 1024)
    const id = generateKeyPairSync('x25519')
    const identity = {
      privateKey: id.privateKey,
      publicRaw: Buffer.from(id.publicKey.export({ format: 'jwk' }).x as string, 'base64url')
    }

    // on the network: pushed over the direct protocol by the member, refused, not stored
    const res = cborDecode(
      await pushTo(
        RECORD_PROTOCOL,
        cborEncode({ op: 'put', records: [{ key: hostile.key, value: hostile.bytes }] })
      )
    ) as { ok: boolean }
    expect(res.ok).toBe(false)
    expect(await receiver.getValues(hostile.key, { localOnly: true }).catch(() => [])).toEqual([])
    // before: one validation without the cap, and the reader's unwrap loop (one identity held)
    const oldCheck = await timed(() => {
      const e = decodeEnvelope(hostile.bytes, { maxRecipientStanzas: Number.POSITIVE_INFINITY })
      verifyEnvelope(e)
      policies[0]!.authorizeWrite({
        address: e.address,
        creatorRole: e.metadata.creatorRole,
        author: e.author,
        certificate: e.certificate
      })
      return e
    })
    expect(oldCheck.result).not.toBeInstanceOf(Error)
    const oldOpen = await timed(() => bareUnwrapLoop(ciphertext, [identity]))
    expect(oldOpen.result).toBe(HOSTILE_STANZAS)

    // after: the receiving node's own validator refuses it
    const validate = chorusRecordRules({ authority: policies[0] }).validators.CHORUS!
    const newCheck = await timed(() => validate(enc.encode(hostile.key), hostile.bytes))
    expect(String(newCheck.result)).toMatch(/recipients within the limit/)
    // and a reader handed the ciphertext anyway refuses it before the first unwrap
    const reader = nodeCrypto(keys, ['backend_developer']).crypto
    const newOpen = await timed(() => reader.decryptWithRole(ciphertext))
    expect(String(newOpen.result)).toMatch(/more than 128 recipient stanzas/)

    report.badInput('record with 11,000 recipient stanzas', 1)

    report.cost({
      what: `validation of an ${HOSTILE_STANZAS.toLocaleString('en-US')}-stanza record (${(hostile.bytes.byteLength / 1024).toFixed(0)} KiB)`,
      before: round(oldCheck.total),
      after: round(newCheck.total),
      unit: 'ms',
      how: "before: decode, hash, signature and write rule without the stanza cap (accepted, then stored, replicated and read); after: the node's CHORUS validator, which refuses it while parsing the age header"
    })
    report.cost({
      what: 'opening that record (one identity held): event loop held',
      before: round(oldOpen.block),
      after: round(newOpen.block),
      unit: 'ms',
      how: `before: the pre-bounds unwrap loop on node:crypto, ${HOSTILE_STANZAS.toLocaleString('en-US')} X25519 agreements in one block (× each identity held); after: decryptWithRole refuses the header at stanza 129, before any agreement`
    })
    report.check('an 11,000-stanza record is refused at validation and by readers, before any key agreement')
  }, 120_000)

  it('the worst record still accepted (128 stanzas) opens in short slices', async () => {
    const ciphertext = await hostileCiphertext(CAP)
    const worst = await record(ciphertext, 'at-cap')
    const validate = chorusRecordRules({ authority: policies[0] }).validators.CHORUS!
    const check = await timed(() => validate(enc.encode(worst.key), worst.bytes))
    expect(check.result).toBeUndefined()
    // a reader holding 8 identities, none of which opens it: 1,024 unwraps
    const keyring = createKeyring()
    for (let i = 0; i < 8; i++) keyring.addIdentity(generateRoleKey('backend_developer'))
    const reader = createAgeCrypto({ roles: createRoleRegistry(), keyring })
    const open = await timed(() => reader.decryptWithRole(ciphertext))
    expect((open.result as Error).name).toBe('DecryptionDeniedError')
    report.cost({
      what: `opening a ${CAP}-stanza record (the most accepted) with 8 identities held, none opening it: longest event-loop block`,
      before: null,
      after: round(open.block),
      unit: 'ms',
      how: `1,024 X25519 unwraps in slices of 32 with a yield between slices (total ${round(open.total)} ms); its validation took ${round(check.total)} ms`
    })
    report.check('the worst accepted record never holds the event loop for long')
  }, 120_000)

  it('a record received on several paths is verified once', async () => {
    const memo = verifiedRecordsOf(authorities[0])
    const before = { judged, verified: memo.stats().verified }
    const address = 'ucxl://agent002:backend_developer@bounds:honest/*^/decision'
    await storages[1]!.storeUCXLContent(address, 'v1', 'backend_developer', 'text/plain')
    await storages[1]!.storeUCXLContent(address, 'v2', 'backend_developer', 'text/plain')
    const read = await storages[0]!.retrieveUCXLContent(address)
    expect(new TextDecoder().decode(read.content)).toBe('v2')
    await storages[0]!.whenIdle()
    await storages[1]!.whenIdle()
    const checks = judged - before.judged
    const verified = memo.stats().verified - before.verified
    // two distinct records (versions 1 and 2, each under its version key and the head key)
    expect(verified).toBe(2)
    expect(checks).toBeGreaterThan(verified)
    report.cost({
      what: 'signature verifications per received record (2 versions stored by a peer, then read)',
      before: round(checks / 2),
      after: verified / 2,
      unit: 'verifications',
      how: "checks of the record by the receiving node (direct push, kad PUT_VALUE, read candidates, chain walk, indexing), each a full decode and signature verification before the verified-record memo; after: the memo's count"
    })
    report.check('a received record is verified once, however many paths it takes in')
  }, 120_000)
})

const round = (ms: number): number => Math.round(ms * 10) / 10
