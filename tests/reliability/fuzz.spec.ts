// Fuzzing with fast-check: the UCXL parser, the envelope decoder and CHORUS record validator, the
// roles file parser and the HTTP API request bodies. Properties: no crash, no hang, only the
// package's typed errors; and no mutation of a valid signed record is ever accepted.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CryptoError, parseRolesFile, RolesFileError } from '@chorus/crypto'
import { createAgent, createAPIServer, createLogger, loadConfig } from '@chorus/node'
import {
  chorusRecordRules,
  decodeEnvelope,
  ENVELOPE_FORMAT,
  encodeEnvelope,
  headKey,
  InvalidEnvelopeError,
  MalformedEnvelopeError,
  signEnvelope,
  validateChorusRecord,
  versionKey
} from '@chorus/storage'
import { addressDigest, formatAddress, isValidAddress, parseAddress, UCXLAddressError } from '@chorus/ucxl'
import { encode as cborEncode } from 'cborg'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSigner, tempDir } from './helpers.js'
import { createReport, fuzzRuns } from './report.js'

const report = createReport('fuzz')
afterAll(() => report.flush())

const RUNS = fuzzRuns(2500)
// the roles parser (YAML + zod + registry) costs ~4 ms a document
const ROLES_RUNS = fuzzRuns(1500)
const NAME = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
const ADDRESS_CHARS = fc.constantFrom(...'ucxl:/@*^~-_.0123456789abAZ %\u0000\u00e9\ud83d\ude00'.split(''))

/** Typed-error check: returns the error name for counting, or throws the unexpected error. */
function expectTyped(err: unknown, ...allowed: Array<abstract new (...a: never[]) => Error>): void {
  if (!allowed.some((c) => err instanceof c)) {
    throw new Error(`untyped error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`)
  }
}

describe('UCXL parser', () => {
  it('any string: a UCXLAddress or a UCXLAddressError; canonical form is a fixed point', () => {
    const arb = fc.oneof(
      fc.string({ maxLength: 300, unit: 'grapheme' }),
      fc.string({ maxLength: 120, unit: ADDRESS_CHARS }).map((s) => `ucxl://${s}`),
      fc
        .tuple(NAME, NAME, NAME, NAME, fc.constantFrom('*^', '*~', '*~3', '~~2', '^^1', '*', '~', ''), NAME)
        .map(([a, r, p, t, tm, path]) => `ucxl://${a}:${r}@${p}:${t}/${tm}/${path}`),
      fc.string({ minLength: 2500, maxLength: 5000 }).map((s) => `ucxl://${s}`)
    )
    let ok = 0
    fc.assert(
      fc.property(arb, (raw) => {
        let parsed: ReturnType<typeof parseAddress>
        try {
          parsed = parseAddress(raw)
        } catch (err) {
          expectTyped(err, UCXLAddressError)
          expect(isValidAddress(raw)).toBe(false)
          return
        }
        ok++
        const canonical = formatAddress(parsed)
        expect(formatAddress(parseAddress(canonical))).toBe(canonical)
        expect(addressDigest(parseAddress(canonical))).toBe(addressDigest(parsed))
      }),
      { numRuns: RUNS }
    )
    report.badInput('UCXL address strings', RUNS)
    report.note(`UCXL fuzz: ${ok} of ${RUNS} generated strings were valid addresses`)
    report.check('UCXL parser: only UCXLAddressError, canonical form stable')
  })
})

describe('envelope decoder and CHORUS record validator', () => {
  const signer = makeSigner()
  const base = 'ucxl://agent001:backend_developer@project123:task456/fuzz'
  const digest = addressDigest(parseAddress(base))
  let valid: Uint8Array

  beforeAll(async () => {
    // an age-shaped ciphertext (one X25519 stanza, then random bytes): what the record check accepts
    const b64 = (n: number) => randomBytes(n).toString('base64').replace(/=+$/, '')
    const header = `age-encryption.org/v1\n-> X25519 ${b64(32)}\n${b64(32)}\n--- ${b64(32)}\n`
    const ciphertext = Buffer.concat([Buffer.from(header, 'latin1'), randomBytes(200)])
    const { sha256 } = await import('node:crypto').then((c) => ({
      sha256: (b: Uint8Array) => new Uint8Array(c.createHash('sha256').update(b).digest())
    }))
    const signed = await signEnvelope(
      {
        format: ENVELOPE_FORMAT,
        address: base,
        version: 1,
        metadata: {
          creatorRole: 'backend_developer',
          encryptedFor: ['backend_developer', 'senior_architect'],
          contentType: 'decision',
          timestamp: 1_700_000_000_000,
          size: 100,
          ciphertextHash: sha256(ciphertext)
        },
        ciphertext,
        author: signer.publicKey,
        previous: null,
        certificate: null
      },
      signer
    )
    valid = signed.bytes
    // sanity: the pristine record passes, so refusals below are about the mutation
    validateChorusRecord(headKey(digest), valid)
    validateChorusRecord(versionKey(digest, 1), valid)
  })

  it('random bytes and random CBOR values: only MalformedEnvelopeError', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => cborEncode(v)),
      fc
        .dictionary(
          fc.constantFrom(
            'format',
            'address',
            'version',
            'metadata',
            'ciphertext',
            'author',
            'previous',
            'x'
          ),
          fc.oneof(fc.integer(), fc.string(), fc.uint8Array({ maxLength: 40 }), fc.constant(null))
        )
        .map((v) => cborEncode(v))
    )
    fc.assert(
      fc.property(arb, (bytes) => {
        try {
          decodeEnvelope(bytes)
        } catch (err) {
          expectTyped(err, MalformedEnvelopeError)
          return
        }
        throw new Error('random input decoded as an envelope')
      }),
      { numRuns: RUNS }
    )
    report.badInput('random bytes / CBOR as envelope', RUNS)
    report.check('envelope decoder: only MalformedEnvelopeError on random input')
  })

  it('every mutation of a valid signed record (flip, cut, extend, splice) is refused with a typed error', async () => {
    const rules = chorusRecordRules()
    const validate = rules.validators.CHORUS!
    const keyBytes = new TextEncoder().encode(headKey(digest))
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('cut'), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend'), extra: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
      fc.record({ kind: fc.constant('set'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('oversize'), n: fc.integer({ min: 1, max: 4 }) })
    )
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        let bytes: Uint8Array
        const v = valid
        switch (m.kind) {
          case 'flip': {
            bytes = v.slice()
            const i = m.at % v.length
            bytes[i] = bytes[i]! ^ (1 << m.bit)
            break
          }
          case 'set': {
            bytes = v.slice()
            const i = m.at % v.length
            if (bytes[i] === m.byte) return
            bytes[i] = m.byte
            break
          }
          case 'cut':
            bytes = v.slice(0, m.at % v.length)
            break
          case 'extend':
            bytes = new Uint8Array([...v, ...m.extra])
            break
          default:
            bytes = new Uint8Array(1024 * 1024 * m.n + 200 * 1024)
        }
        try {
          validateChorusRecord(headKey(digest), bytes)
        } catch (err) {
          expectTyped(err, MalformedEnvelopeError, InvalidEnvelopeError)
          await expect(validate(keyBytes, bytes)).rejects.toThrow()
          return
        }
        throw new Error(`a ${m.kind} mutation of a signed record was accepted`)
      }),
      { numRuns: RUNS }
    )
    // and the record under a key it does not belong to
    expect(() => validateChorusRecord(versionKey(digest, 2), valid)).toThrow(InvalidEnvelopeError)
    expect(() => validateChorusRecord(headKey(addressDigest(parseAddress(`${base}x`))), valid)).toThrow(
      InvalidEnvelopeError
    )
    expect(decodeEnvelope(encodeEnvelope(decodeEnvelope(valid)))).toEqual(decodeEnvelope(valid))
    report.badInput('mutated signed envelopes', RUNS + 2)
    report.check('record validator: no mutation of a signed envelope accepted')
  })
})

describe('roles file parser', () => {
  it('any text, YAML or JSON shape: a registry or a CryptoError (RolesFileError...)', () => {
    const role = fc.constantFrom(
      'backend_developer',
      'senior_architect',
      'x',
      '*',
      '',
      'a b',
      'release_manager'
    )
    const spec = fc.record(
      {
        authority: fc.oneof(
          fc.constantFrom('master', 'decision', 'coordination', 'suggestion', 'read_only'),
          fc.string()
        ),
        canDecrypt: fc.oneof(fc.array(role, { maxLength: 4 }), fc.string(), fc.integer()),
        description: fc.oneof(fc.string(), fc.integer())
      },
      { requiredKeys: [] }
    )
    const doc = fc.oneof(
      fc.string({ maxLength: 400 }),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.dictionary(role, spec, { maxKeys: 4 }).map((roles) => JSON.stringify({ roles })),
      fc.dictionary(role, spec, { maxKeys: 4 }).map(
        (roles) =>
          `roles:\n${Object.entries(roles)
            .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
            .join('\n')}\n`
      ),
      fc.constantFrom('roles: &a [*a]', 'roles: !!binary x', `roles:\n${'  - a\n'.repeat(300)}`, '{"roles":')
    )
    let accepted = 0
    fc.assert(
      fc.property(doc, (text) => {
        try {
          const reg = parseRolesFile(text, { source: 'fuzz.yaml' })
          accepted++
          expect(reg.has('backend_developer')).toBe(true)
        } catch (err) {
          expectTyped(err, CryptoError)
        }
      }),
      { numRuns: ROLES_RUNS }
    )
    report.badInput('roles file texts', ROLES_RUNS - accepted)
    report.check('roles file parser: only CryptoError subclasses')
  })

  // Found by this fuzzer: yaml's toJS() threw a plain ReferenceError for an alias without anchor.
  it('an unresolved YAML alias gets a RolesFileError', () => {
    for (const text of ['*!', 'roles: *a', 'roles:\n  x: *y\n']) {
      expect(() => parseRolesFile(text)).toThrow(RolesFileError)
    }
  })
})

describe('HTTP API request bodies (a real agent, in process)', () => {
  const tmp = tempDir('chorus-rel-api-')
  const token = randomBytes(24).toString('hex')
  let agent: Awaited<ReturnType<typeof createAgent>>
  let api: ReturnType<typeof createAPIServer>

  beforeAll(async () => {
    const { config } = await loadConfig({
      env: {},
      flags: { dataDir: join(tmp.dir, 'node') },
      cwd: tmp.dir
    })
    const logger = createLogger('silent')
    agent = await createAgent({ ...config, joinStaggerMs: 0 }, logger)
    await agent.start()
    const deadline = Date.now() + 30_000
    while (!agent.isReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    api = createAPIServer({ service: agent, token, logger })
    await api.app.ready()
  }, 60_000)

  afterAll(async () => {
    await api?.close()
    await agent?.stop()
    tmp.remove()
  }, 60_000)

  const CODE = /^UCXL-\d{3}-[A-Z_]+$/
  const checkReply = (res: { statusCode: number; body: string }, what: string) => {
    if (res.statusCode >= 500) throw new Error(`${what}: HTTP ${res.statusCode} ${res.body.slice(0, 300)}`)
    const body = JSON.parse(res.body) as { error?: { code?: string; message?: string } }
    if (res.statusCode >= 400) {
      expect(body.error?.code, `${what}: ${res.body.slice(0, 200)}`).toMatch(CODE)
      expect(typeof body.error?.message).toBe('string')
    }
  }

  it('POST /v1/content with any body: 2xx or a 4xx with a UCXL error code, never 5xx', async () => {
    expect(agent.isReady()).toBe(true)
    const address = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.tuple(NAME, NAME).map(([p, path]) => `ucxl://agent001:backend_developer@${p}:task1/*^/${path}`),
      fc.constantFrom(
        'ucxl://any:any@any:any/*^/x',
        'ucxl://agent001:senior_architect@p:t/*^/x',
        'ucxl://a:admin@p:t/*~2/x',
        `ucxl://a:backend_developer@p:t/*^/${'x'.repeat(3000)}`
      )
    )
    const body = fc.oneof(
      fc
        .record(
          {
            address,
            content: fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.constant(null)),
            contentBase64: fc.oneof(fc.base64String({ maxLength: 80 }), fc.string({ maxLength: 40 })),
            contentType: fc.oneof(
              fc.constantFrom('decision', 'suggestion', 'file'),
              fc.string({ maxLength: 70 })
            ),
            extra: fc.jsonValue({ maxDepth: 2 })
          },
          { requiredKeys: [] }
        )
        .map((o) => JSON.stringify(o)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 })
    )
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      ''
    )
    let ok = 0
    await fc.assert(
      fc.asyncProperty(body, contentType, async (payload, ct) => {
        const res = await api.app.inject({
          method: 'POST',
          url: '/v1/content',
          headers: { authorization: `Bearer ${token}`, ...(ct !== '' ? { 'content-type': ct } : {}) },
          payload
        })
        if (res.statusCode === 201) ok++
        checkReply(res, `POST ${payload.slice(0, 120)}`)
      }),
      { numRuns: Math.ceil(RUNS / 2) }
    )
    report.badInput('HTTP POST /v1/content bodies', Math.ceil(RUNS / 2) - ok)
    if (ok > 0) report.written(ok)
    report.note(`API fuzz: ${ok} generated POST bodies were valid stores`)
    report.check('HTTP API: POST bodies never answered with 5xx')
  })

  it('GET routes with any query string: never 5xx; without the right token: always 401', async () => {
    const route = fc.constantFrom(
      '/v1/content',
      '/v1/list',
      '/v1/search',
      '/v1/status',
      '/v1/peers',
      '/v1/replication'
    )
    const params = fc.dictionary(
      fc.constantFrom(
        'address',
        'encoding',
        'fresh',
        'role',
        'limit',
        'agent',
        'createdAfter',
        'x',
        'contentType'
      ),
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.integer().map(String),
        fc.constantFrom('ucxl://a:b@c:d/*^/e', 'true')
      )
    )
    const auth = fc.oneof(
      fc.constant(`Bearer ${token}`),
      fc.constant(undefined),
      fc.constant(`Bearer ${token}x`),
      fc.constant(`Bearer ${token.slice(0, -1)}`),
      fc.constant(`bearer ${token}`),
      fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s))
    )
    await fc.assert(
      fc.asyncProperty(route, params, auth, async (r, q, a) => {
        const res = await api.app.inject({
          method: 'GET',
          url: r,
          query: q,
          headers: a !== undefined ? { authorization: a } : {}
        })
        checkReply(res, `GET ${r} ${JSON.stringify(q).slice(0, 100)}`)
        if (a !== `Bearer ${token}` && a !== `Bearer  ${token}`) {
          expect(res.statusCode, `${r} with auth ${String(a)}`).toBe(401)
          expect(res.body).not.toContain(token)
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) }
    )
    report.badInput('HTTP GET query strings and tokens', Math.ceil(RUNS / 2))
    report.check('HTTP API: never 5xx on queries; 401 without the token')
  })
})
