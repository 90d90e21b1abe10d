import { EquivocationError, StaleRecordError } from '@chorus/dht'
import { addressDigest } from '@chorus/ucxl'
import { describe, expect, it } from 'vitest'
import { headKey, versionKey } from '../src/address.js'
import { CHORUS_NAMESPACE, chorusRecordRules } from '../src/records.js'
import { chorusSuccession } from '../src/succession.js'
import { BASE, makeSigner, sampleEnvelope } from './helpers.js'

const enc = new TextEncoder()
const digest = addressDigest(BASE)
const HEAD = enc.encode(headKey(digest))
const open = chorusSuccession()
const team = chorusSuccession({ authority: {} })

/** What the rule says: 'replace', 'stale' or 'equivocation' (with the author charged). */
function verdict(
  rule: ReturnType<typeof chorusSuccession>,
  key: Uint8Array,
  held: Uint8Array,
  incoming: Uint8Array
): string {
  try {
    rule(key, held, incoming)
    return 'replace'
  } catch (err) {
    if (StaleRecordError.isInstance(err)) return 'stale'
    if (EquivocationError.isInstance(err)) return `equivocation:${Buffer.from(err.authorKey).toString('hex')}`
    throw err
  }
}

async function chain(signer = makeSigner(), n = 4) {
  const out = [await sampleEnvelope(signer)]
  for (let v = 2; v <= n; v++) {
    out.push(await sampleEnvelope(signer, { version: v, previous: out[v - 2]!.hash }))
  }
  return { signer, versions: out, hex: Buffer.from(signer.publicKey).toString('hex') }
}

describe('chorusSuccession', () => {
  it('a version key is immutable: the same bytes pass, any other valid copy is equivocation', async () => {
    const { signer, versions, hex } = await chain(makeSigner(), 2)
    const v2 = versions[1]!
    const key = enc.encode(versionKey(digest, 2))
    const other = await sampleEnvelope(signer, {
      version: 2,
      previous: versions[0]!.hash,
      metadata: { ...v2.envelope.metadata, contentType: 'suggestion' }
    })
    for (const rule of [open, team]) {
      expect(verdict(rule, key, v2.bytes, v2.bytes)).toBe('replace')
      expect(verdict(rule, key, v2.bytes, other.bytes)).toBe(`equivocation:${hex}`)
    }
  })

  it('a head moves forward only: lower is stale, the same version with other bytes is equivocation', async () => {
    const { signer, versions, hex } = await chain()
    const [v1, v2, v3] = versions as [(typeof versions)[0], (typeof versions)[0], (typeof versions)[0]]
    const v3b = await sampleEnvelope(signer, {
      version: 3,
      previous: v2.hash,
      metadata: { ...v3.envelope.metadata, timestamp: 1 }
    })
    for (const rule of [open, team]) {
      expect(verdict(rule, HEAD, v3.bytes, v1.bytes)).toBe('stale')
      expect(verdict(rule, HEAD, v3.bytes, v2.bytes)).toBe('stale')
      expect(verdict(rule, HEAD, v3.bytes, v3.bytes)).toBe('replace')
      expect(verdict(rule, HEAD, v3.bytes, v3b.bytes)).toBe(`equivocation:${hex}`)
      expect(verdict(rule, HEAD, v2.bytes, v3.bytes)).toBe('replace')
    }
  })

  it('held + 1 must name the held record; a fork is equivocation', async () => {
    const { signer, versions, hex } = await chain()
    const [v1, v2] = versions as [(typeof versions)[0], (typeof versions)[0]]
    // a version 3 that names version 1 (or nothing like version 2) forks the chain
    const fork = await sampleEnvelope(signer, { version: 3, previous: v1.hash })
    for (const rule of [open, team]) {
      expect(verdict(rule, HEAD, v2.bytes, fork.bytes)).toBe(`equivocation:${hex}`)
    }
  })

  it('further ahead: the same author, or in team mode any author the write rule allowed', async () => {
    const { versions } = await chain()
    const [v1, , , v4] = versions as [(typeof versions)[0], unknown, unknown, (typeof versions)[0]]
    const other = makeSigner()
    const otherHex = Buffer.from(other.publicKey).toString('hex')
    const jump = await sampleEnvelope(other, { version: 4, previous: new Uint8Array(32) })
    const successor = await sampleEnvelope(other, { version: 2, previous: v1.hash })
    // the same author catches up
    expect(verdict(open, HEAD, v1.bytes, v4.bytes)).toBe('replace')
    // open mode: another author neither jumps ahead nor succeeds (a forged successor)
    expect(verdict(open, HEAD, v1.bytes, jump.bytes)).toBe(`equivocation:${otherHex}`)
    expect(verdict(open, HEAD, v1.bytes, successor.bytes)).toBe(`equivocation:${otherHex}`)
    // team mode: both records passed the write rule for one address, so both authors hold a
    // certificate of the agent that owns it (a new node key of the same agent)
    expect(verdict(team, HEAD, v1.bytes, jump.bytes)).toBe('replace')
    expect(verdict(team, HEAD, v1.bytes, successor.bytes)).toBe('replace')
  })

  it('no timestamp decides: a backdated copy of the held version is equivocation, not a winner', async () => {
    const { signer, versions, hex } = await chain(makeSigner(), 2)
    const v2 = versions[1]!
    const backdated = await sampleEnvelope(signer, {
      version: 2,
      previous: versions[0]!.hash,
      metadata: { ...v2.envelope.metadata, timestamp: 0 }
    })
    expect(verdict(open, HEAD, v2.bytes, backdated.bytes)).toBe(`equivocation:${hex}`)
    expect(verdict(open, HEAD, backdated.bytes, v2.bytes)).toBe(`equivocation:${hex}`)
  })

  it('a held record that no longer decodes is replaced; other CHORUS keys keep the held one by default', async () => {
    const { versions } = await chain(makeSigner(), 1)
    expect(verdict(open, HEAD, enc.encode('junk'), versions[0]!.bytes)).toBe('replace')
    const role = enc.encode('/CHORUS/role/x')
    expect(verdict(open, role, enc.encode('a'), enc.encode('a'))).toBe('replace')
    expect(verdict(open, role, enc.encode('a'), enc.encode('b'))).toBe('stale')
    const newest = chorusSuccession({ fallbackSelector: () => 1 })
    expect(verdict(newest, role, enc.encode('a'), enc.encode('b'))).toBe('replace')
  })

  it('is the succession rule chorusRecordRules gives the DHT', async () => {
    const rules = chorusRecordRules()
    const rule = rules.succession?.[CHORUS_NAMESPACE]
    expect(rule).toBeTypeOf('function')
    const { versions } = await chain(makeSigner(), 2)
    expect(verdict(rule!, HEAD, versions[1]!.bytes, versions[0]!.bytes)).toBe('stale')
  })
})
