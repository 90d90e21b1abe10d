// Unit tests of the read path's components, without a network: temporal resolution, read-repair
// decisions, candidate selection and chain verification over an in-memory index and fake sources.
import type { NodeSigner } from '@chorus/dht'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { resolveAddress, versionKey } from '../src/address.js'
import { InvalidAddressError } from '../src/errors.js'
import { LocalIndex } from '../src/index-db.js'
import { type Candidate, consistent, verifyCandidates } from '../src/read/candidates.js'
import { ChainVerifier } from '../src/read/chain-verifier.js'
import { ReadRepair } from '../src/read/read-repair.js'
import { readTarget } from '../src/read/temporal.js'
import { createRecordCheck } from '../src/record-check.js'
import { BASE, makeSigner, sampleEnvelope } from './helpers.js'

const r = resolveAddress(BASE)

describe('readTarget (temporal resolution)', () => {
  it('maps each temporal segment to the version it names', () => {
    expect(readTarget(BASE, { kind: 'latest' })).toEqual({ kind: 'latest' })
    expect(readTarget(BASE, { kind: 'first' })).toEqual({ kind: 'version', version: 1 })
    expect(readTarget(BASE, { kind: 'version', n: 7 })).toEqual({ kind: 'version', version: 7 })
    expect(readTarget(BASE, { kind: 'back', n: 2 })).toEqual({ kind: 'back', n: 2 })
    expect(readTarget(BASE, { kind: 'forward', n: 2 })).toEqual({ kind: 'version', version: 3 })
    expect(readTarget(BASE, { kind: 'forward', n: 2 }, 5)).toEqual({ kind: 'version', version: 7 })
  })

  it('refuses a forward base that is not a version number', () => {
    for (const from of [0, -1, 1.5, Number.NaN]) {
      expect(() => readTarget(BASE, { kind: 'forward', n: 1 }, from)).toThrow(InvalidAddressError)
    }
  })
})

describe('ReadRepair', () => {
  function repairer(enabled = true) {
    let now = 1_000_000
    const runs: Array<(signal: AbortSignal) => Promise<unknown>> = []
    const puts: string[] = []
    const repair = new ReadRepair(
      {
        dht: {
          putValue: async (key: string) => {
            puts.push(key)
            return { key, acks: [], storedLocally: true }
          }
        },
        background: { run: (_what, fn) => void runs.push(fn) }
      },
      { enabled, interval: 5_000, now: () => now }
    )
    return { repair, runs, puts, advance: (ms: number) => (now += ms) }
  }

  it('repairs an address once at a time and at most once per interval', async () => {
    const { repair, runs, puts, advance } = repairer()
    const c = { bytes: new Uint8Array([1]) } as Candidate
    repair.repair(r, c)
    repair.repair(r, c) // in flight: skipped
    expect(runs).toHaveLength(1)
    await runs[0]!(new AbortController().signal)
    expect(puts).toEqual([`/CHORUS/ucxl/${r.digest}`])
    advance(4_999)
    repair.repair(r, c)
    expect(runs).toHaveLength(1)
    advance(1)
    repair.repair(r, c)
    expect(runs).toHaveLength(2)
  })

  it('a failed repair still starts the interval; disabled means never', async () => {
    const { repair, advance } = repairer()
    expect(repair.claim('a')).toBe(true)
    repair.release('a')
    expect(repair.claim('a')).toBe(false)
    advance(5_000)
    expect(repair.claim('a')).toBe(true)
    expect(repairer(false).repair.claim('a')).toBe(false)
  })
})

describe('chain verification', () => {
  let index: LocalIndex
  let author: NodeSigner
  let other: NodeSigner
  /** Versions as the fake source serves them: version -> candidates. */
  let served: Map<number, Candidate[]>
  let verifier: ChainVerifier

  const candidate = (bytes: Uint8Array, version: number, from = 'peer'): Candidate => {
    const [c] = verifyCandidates(versionKey(r.digest, version), [{ value: bytes, from }], createRecordCheck())
    if (c === undefined) throw new Error('invalid test envelope')
    return c
  }
  const serve = (c: Candidate): void => {
    const v = c.envelope.version
    served.set(v, [...(served.get(v) ?? []), c])
  }
  /** A chain of `n` versions by `signer`, served by the fake source. */
  async function chain(signer: NodeSigner, n: number): Promise<Candidate[]> {
    const out: Candidate[] = []
    for (let v = 1; v <= n; v++) {
      const { bytes } = await sampleEnvelope(signer, { version: v, previous: out[v - 2]?.hash ?? null })
      out.push(candidate(bytes, v))
      serve(out[v - 1]!)
    }
    return out
  }
  const signal = new AbortController().signal

  beforeEach(() => {
    index = new LocalIndex(':memory:')
    author = makeSigner()
    other = makeSigner()
    served = new Map()
    verifier = new ChainVerifier(
      { local: { index }, candidates: { versionCandidates: async (_r, n) => served.get(n) ?? [] } },
      { maxChainWalk: 64, maxSuccessorProbe: 16, successorProbeTimeout: 500 }
    )
  })
  afterEach(() => index.close())

  it('walks a valid chain back to version 1 and remembers the links', async () => {
    const [, , v3] = await chain(author, 3)
    expect(await verifier.verifyChain(r, v3!, signal)).toEqual({ ok: true })
    expect(index.getTrusted(BASE, 2)?.hash).toBe(served.get(2)![0]!.hashHex)
    // the next walk stops at the first trusted link
    served.clear()
    expect(await verifier.verifyChain(r, v3!, signal)).toEqual({ ok: true })
  })

  it('refuses a version whose predecessor is missing or differs from a trusted one', async () => {
    const [, v2] = await chain(author, 2)
    served.delete(1)
    expect(await verifier.verifyChain(r, v2!, signal)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not found/)
    })
    index.addLink(BASE, 2, 'ff'.repeat(32), Buffer.from(author.publicKey).toString('hex'))
    expect(await verifier.verifyChain(r, v2!, signal)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/trusts/)
    })
  })

  it('a forged successor by another author: a read of the latest falls back to the genuine predecessor', async () => {
    const [, v2] = await chain(author, 2)
    const forged = candidate((await sampleEnvelope(other, { version: 3, previous: v2!.hash })).bytes, 3)
    const check = await verifier.verifyChain(r, forged, signal)
    expect(check).toMatchObject({ ok: false, predecessor: { hashHex: v2!.hashHex } })
    expect((await verifier.pickVerified(r, [forged], signal, 'latest'))?.hashHex).toBe(v2!.hashHex)
    expect(await verifier.pickVerified(r, [forged], signal, 'version')).toBeUndefined()
  })

  it("'probe' carries a rolled-back head forward along the version keys", async () => {
    const [v1, , v3] = await chain(author, 3)
    expect((await verifier.pickVerified(r, [v1!], signal, 'probe'))?.hashHex).toBe(v3!.hashHex)
    expect((await verifier.pickVerified(r, [v1!], signal, 'version'))?.hashHex).toBe(v1!.hashHex)
  })

  it('without a pinned author, the author more distinct peers returned wins', async () => {
    const mine = candidate((await sampleEnvelope(author)).bytes, 1, 'p1')
    mine.from.add('p2')
    const liar = candidate((await sampleEnvelope(other)).bytes, 1, 'p3')
    expect(consistent(index, r, [liar, mine])).toEqual([mine])
    // a tie keeps both
    mine.from.delete('p2')
    expect(consistent(index, r, [liar, mine])).toHaveLength(2)
  })
})
