import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  addressDigest,
  baseAddress,
  formatAddress,
  INVALID_ADDRESS,
  isValidAddress,
  MAX_ERROR_INPUT_LENGTH,
  matchesAddress,
  parseAddress,
  parsePattern,
  TEMPORAL_INVALID,
  UCXLAddressError
} from '../src/index.js'

const RUNS = 10_000
const FIELDS = ['address', 'scheme', 'agent', 'role', 'project', 'task', 'temporal', 'path']

// A model of the grammar: each generated spelling comes with the canonical form it must give.
type Spelled = { raw: string; canonical: string; base: string }

const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
const component = fc.oneof(
  { weight: 4, arbitrary: name.map((s) => ({ raw: s, canonical: s })) },
  { weight: 1, arbitrary: fc.constantFrom('any', '*').map((s) => ({ raw: s, canonical: 'any' })) }
)
const zeros = fc.integer({ min: 0, max: 3 }).map((k) => '0'.repeat(k))
const n = fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER))
const temporal = fc.oneof(
  fc.constant({ raw: '*^', canonical: '*^' }),
  fc.constant({ raw: '*~', canonical: '*~' }),
  fc
    .tuple(fc.constantFrom('*~', '~~', '^^'), zeros, n)
    .map(([p, z, k]) => ({ raw: `${p}${z}${k}`, canonical: `${p}${k}` }))
)
const segment = fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/).filter((s) => s !== '.' && s !== '..')
const sep = fc.constantFrom('/', '/', '/', '//')
const path = fc
  .tuple(fc.array(fc.tuple(sep, segment), { maxLength: 6 }), fc.constantFrom('', '', '/', '//'))
  .map(([parts, trailing]) => ({
    raw: parts.map(([s, seg]) => s + seg).join('') + trailing,
    canonical: parts.map(([, seg]) => seg).join('/')
  }))
const scheme = fc.constantFrom('ucxl://', 'ucxl://', 'UCXL://', 'UCXL://')

const spelled: fc.Arbitrary<Spelled> = fc
  .record({
    scheme,
    c: fc.tuple(component, component, component, component),
    t: fc.option(temporal, { nil: undefined }),
    p: path,
    legacy: fc.boolean()
  })
  .map(({ scheme, c, t, p, legacy }) => {
    const [a, r, pr, tk] = c
    const auth = legacy ? `${a.raw}/${r.raw}/${pr.raw}/${tk.raw}` : `${a.raw}:${r.raw}@${pr.raw}:${tk.raw}`
    const raw = scheme + auth + (t ? `/${t.raw}` : '') + p.raw
    const authC = `ucxl://${a.canonical}:${r.canonical}@${pr.canonical}:${tk.canonical}`
    const tail = p.canonical === '' ? '' : `/${p.canonical}`
    return { raw, canonical: `${authC}/${t ? t.canonical : '*^'}${tail}`, base: authC + tail }
  })

// Strings made of grammar-ish pieces reach far deeper into the parser than random text.
const FRAGMENTS = [
  'ucxl://',
  'UCXL://',
  'ucxl:/',
  'ucxl',
  'a',
  'Z9',
  '_',
  '-',
  'any',
  '*',
  ':',
  '@',
  '/',
  '//',
  '.',
  '..',
  '*^',
  '*~',
  '~~',
  '^^',
  '~',
  '^',
  '0',
  '7',
  '12',
  '9007199254740993',
  '**',
  ' ',
  '?',
  '#',
  '%',
  'é',
  '\u0000',
  '\uD800',
  '😀'
]
const prefixed = (arb: fc.Arbitrary<string>) => arb.map((s) => `ucxl://${s}`)
const soup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }).map((parts) => parts.join(''))
// Address-shaped: each slot usually holds something valid and sometimes a near miss.
const slot = (good: string[], bad: string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...good) },
    { weight: 1, arbitrary: fc.constantFrom(...bad) }
  )
const comp = slot(['a', 'Z9', '_-', 'any', '*'], ['', 'a.b', 'é', 'a b', '**', 'a*', ':', '@'])
const tailPiece = slot(
  ['*^', '*~', '*~3', '~~0', '^^12', 'x', 'docs', 'a.md', '.x', '...', ''],
  ['.', '..', '*', '**', '~', '^', '~~', '*~x', '^^-1', '*^^', 'a b', '%2F', '9007199254740993']
)
const shaped = fc
  .tuple(
    slot(['ucxl://', 'UCXL://'], ['ucxl:/', '', 'http://', 'ucxl:///']),
    fc.tuple(comp, comp, comp, comp),
    fc.boolean(),
    slot([''], ['/', ':', '@']),
    fc.array(fc.tuple(slot(['/'], ['//', '']), tailPiece), { maxLength: 5 })
  )
  .map(([scheme, [a, r, p, t], legacy, odd, tail]) => {
    const auth = legacy ? `${a}/${r}/${p}/${t}` : `${a}:${r}@${p}:${t}`
    return scheme + auth + odd + tail.map(([sep, piece]) => sep + piece).join('')
  })
const grammarish = fc.oneof(soup, prefixed(soup), { weight: 2, arbitrary: shaped })

// Plain checks rather than expect(): these run hundreds of thousands of times.
function check(ok: boolean, what: string, input: unknown): void {
  if (!ok) throw new Error(`${what} for input ${JSON.stringify(String(input))}`)
}

/** Parses, and either the result is a canonical fixed point or the error is a well-formed UCXLAddressError. */
function parsesTotally(input: unknown): boolean {
  let canonical: string
  try {
    canonical = formatAddress(parseAddress(input as string))
  } catch (err) {
    if (!(err instanceof UCXLAddressError)) throw err
    check(err.code === INVALID_ADDRESS || err.code === TEMPORAL_INVALID, 'unknown code', input)
    check((err.code === TEMPORAL_INVALID) === (err.field === 'temporal'), 'code does not fit field', input)
    check(FIELDS.includes(err.field), 'unknown field', input)
    check(err.reason.length > 0, 'empty reason', input)
    check(err.input.length <= MAX_ERROR_INPUT_LENGTH + 30, 'input not truncated', input)
    check(!isValidAddress(input), 'isValidAddress disagrees', input)
    return false
  }
  check(isValidAddress(input), 'isValidAddress disagrees', input)
  check(formatAddress(parseAddress(canonical)) === canonical, 'canonical is not a fixed point', input)
  check(addressDigest(canonical) === addressDigest(input as string), 'digest differs from canonical', input)
  return true
}

function checkTotal(input: unknown): void {
  parsesTotally(input)
}

/** Same contract for patterns and for matching. */
function checkPatternTotal(input: string): void {
  try {
    const p = parsePattern(input)
    check(typeof matchesAddress(p, 'ucxl://a:r@p:t/*^/x/y') === 'boolean', 'match result', input)
  } catch (err) {
    if (!(err instanceof UCXLAddressError)) throw err
  }
}

describe('properties', () => {
  it('every spelling gives its canonical form, which is a fixed point with one digest', () => {
    fc.assert(
      fc.property(spelled, ({ raw, canonical, base }) => {
        const a = parseAddress(raw)
        check(formatAddress(a) === canonical, `canonical ${formatAddress(a)} != ${canonical}`, raw)
        const again = parseAddress(canonical)
        check(JSON.stringify(again) === JSON.stringify(a), 'reparse differs', raw)
        check(formatAddress(canonical) === canonical, 'not a fixed point', raw)
        check(baseAddress(raw) === base, 'base address', raw)
        check(addressDigest(raw) === addressDigest(canonical), 'digest differs', raw)
        // An address always matches itself, and the all-wildcard pattern matches everything.
        check(matchesAddress(canonical, raw), 'does not match itself', raw)
        check(matchesAddress('ucxl://any:any@any:any/*^/**', raw), 'wildcard does not match', raw)
      }),
      { numRuns: RUNS }
    )
  })

  it('arbitrary strings only ever throw UCXLAddressError', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), prefixed(fc.string())), checkTotal), { numRuns: RUNS })
  })

  it('arbitrary unicode (lone surrogates included) only ever throws UCXLAddressError', () => {
    const unicode = fc.string({ unit: 'binary', maxLength: 64 })
    fc.assert(fc.property(fc.oneof(unicode, prefixed(unicode)), checkTotal), { numRuns: RUNS })
  })

  it('grammar-ish strings only ever throw UCXLAddressError, and parse to fixed points', () => {
    let valid = 0
    let invalid = 0
    const count = (input: string) => {
      if (parsesTotally(input)) valid++
      else invalid++
    }
    fc.assert(fc.property(grammarish, count), { numRuns: RUNS })
    // The generator must reach both outcomes often, or the property says little.
    expect(valid).toBeGreaterThan(RUNS / 10)
    expect(invalid).toBeGreaterThan(RUNS / 10)
  })

  it('mutated valid addresses only ever throw UCXLAddressError', () => {
    const mutated = fc
      .tuple(spelled, fc.nat(), fc.constantFrom(...FRAGMENTS, ''), fc.nat({ max: 3 }))
      .map(([{ raw }, at, insert, cut]) => {
        const i = at % (raw.length + 1)
        return raw.slice(0, i) + insert + raw.slice(i + cut)
      })
    fc.assert(fc.property(mutated, checkTotal), { numRuns: RUNS })
  })

  it('patterns and matching only ever throw UCXLAddressError', () => {
    fc.assert(fc.property(fc.oneof(grammarish, fc.string()), checkPatternTotal), {
      numRuns: RUNS
    })
  })

  it('non-string input only ever throws UCXLAddressError', () => {
    fc.assert(fc.property(fc.anything(), checkTotal), { numRuns: 2_000 })
  })
})
