import { describe, expect, it } from 'vitest'
import {
  formatAddress,
  INVALID_ADDRESS,
  isValidAddress,
  MAX_ADDRESS_LENGTH,
  parseAddress,
  TEMPORAL_INVALID,
  type UCXLAddress,
  UCXLAddressError,
  type UCXLField
} from '../src/index.js'

const base = { agent: 'agent001', role: 'backend_developer', project: 'project123', task: 'task456' }

// input -> canonical form, and the parsed object where it says something the canonical string does not.
const VALID: Array<[string, string, Partial<UCXLAddress>?]> = [
  [
    'ucxl://agent001:backend_developer@project123:task456/*^/decision',
    'ucxl://agent001:backend_developer@project123:task456/*^/decision',
    { ...base, temporal: { kind: 'latest' }, path: 'decision' }
  ],
  // The reference's legacy form: agent/role/project/task/path, latest version.
  [
    'ucxl://agent001/backend_developer/project123/task456/decision',
    'ucxl://agent001:backend_developer@project123:task456/*^/decision',
    { ...base, temporal: { kind: 'latest' }, path: 'decision' }
  ],
  ['ucxl://a/r/p/t', 'ucxl://a:r@p:t/*^', { path: '' }],
  ['ucxl://a/r/p/t/', 'ucxl://a:r@p:t/*^'],
  ['ucxl://a/r/p/t/docs/api/v2.md', 'ucxl://a:r@p:t/*^/docs/api/v2.md', { path: 'docs/api/v2.md' }],
  ['ucxl://a/r/p/t/~~2/decision', 'ucxl://a:r@p:t/~~2/decision', { temporal: { kind: 'back', n: 2 } }],
  // Temporal segments.
  ['ucxl://a:r@p:t/*^', 'ucxl://a:r@p:t/*^', { temporal: { kind: 'latest' } }],
  ['ucxl://a:r@p:t/*~', 'ucxl://a:r@p:t/*~', { temporal: { kind: 'first' } }],
  ['ucxl://a:r@p:t/*~3/x', 'ucxl://a:r@p:t/*~3/x', { temporal: { kind: 'version', n: 3 } }],
  ['ucxl://a:r@p:t/*~0', 'ucxl://a:r@p:t/*~0', { temporal: { kind: 'version', n: 0 } }],
  ['ucxl://a:r@p:t/~~1', 'ucxl://a:r@p:t/~~1', { temporal: { kind: 'back', n: 1 } }],
  ['ucxl://a:r@p:t/^^12/x', 'ucxl://a:r@p:t/^^12/x', { temporal: { kind: 'forward', n: 12 } }],
  ['ucxl://a:r@p:t/*~007', 'ucxl://a:r@p:t/*~7', { temporal: { kind: 'version', n: 7 } }],
  [
    `ucxl://a:r@p:t/^^${Number.MAX_SAFE_INTEGER}`,
    `ucxl://a:r@p:t/^^${Number.MAX_SAFE_INTEGER}`,
    { temporal: { kind: 'forward', n: Number.MAX_SAFE_INTEGER } }
  ],
  // Temporal left out: latest.
  ['ucxl://a:r@p:t', 'ucxl://a:r@p:t/*^', { temporal: { kind: 'latest' }, path: '' }],
  ['ucxl://a:r@p:t/', 'ucxl://a:r@p:t/*^'],
  ['ucxl://a:r@p:t/decision', 'ucxl://a:r@p:t/*^/decision', { path: 'decision' }],
  // Wildcards: `*` is a spelling of `any`.
  [
    'ucxl://*:*@*:*/*^',
    'ucxl://any:any@any:any/*^',
    { agent: 'any', role: 'any', project: 'any', task: 'any' }
  ],
  ['ucxl://any:r@p:*', 'ucxl://any:r@p:any/*^'],
  ['ucxl://*/r/*/t/x', 'ucxl://any:r@any:t/*^/x'],
  // Path normalisation: empty segments (duplicate, leading, trailing slashes) are dropped.
  ['ucxl://a:r@p:t/*^/docs//a.md/', 'ucxl://a:r@p:t/*^/docs/a.md', { path: 'docs/a.md' }],
  ['ucxl://a:r@p:t//*^//x', 'ucxl://a:r@p:t/*^/x'],
  ['ucxl://a:r@p:t/*^/', 'ucxl://a:r@p:t/*^', { path: '' }],
  // Dots inside segments are fine; only '.' and '..' segments are refused.
  ['ucxl://a:r@p:t/*^/.hidden/a..b/...', 'ucxl://a:r@p:t/*^/.hidden/a..b/...'],
  // Scheme is case-insensitive; components are case-sensitive and kept as written.
  ['UCXL://Agent-1:Role_2@P-3:T_4/*^/X', 'ucxl://Agent-1:Role_2@P-3:T_4/*^/X', { agent: 'Agent-1' }],
  ['ucxl://ANY:r@p:t', 'ucxl://ANY:r@p:t/*^', { agent: 'ANY' }]
]

const INVALID: Array<[unknown, UCXLField, string?]> = [
  ['', 'address', 'is empty'],
  ['http://a:r@p:t', 'scheme'],
  ['ucxl:/a:r@p:t', 'scheme'],
  [' ucxl://a:r@p:t', 'scheme'],
  ['ucxl://', 'agent', 'is empty'],
  ['ucxl://:r@p:t', 'agent', 'is empty'],
  ['ucxl://a:@p:t', 'role', 'is empty'],
  ['ucxl://a:r@:t', 'project', 'is empty'],
  ['ucxl://a:r@p:', 'task', 'is empty'],
  ['ucxl://a@p:t', 'role', 'missing'],
  ['ucxl://a:r:p:t', 'address'],
  ['ucxl://a:r@p', 'task', 'missing'],
  ['ucxl://a:r@p/x:y', 'task', 'missing'],
  ['ucxl://a:r@p:t:u', 'task', "invalid character ':'"],
  ['ucxl://a:r@@p:t', 'project', "invalid character '@'"],
  ['ucxl://a:r:x@p:t', 'role', "invalid character ':'"],
  ['ucxl://a.b:r@p:t', 'agent', "invalid character '.' at index 8"],
  ['ucxl://ä:r@p:t', 'agent', 'U+00E4'],
  ['ucxl://a:r@p:t ', 'task', "' '"],
  ['ucxl://a**:r@p:t', 'agent'],
  ['ucxl://a/r/p', 'task', 'missing'],
  ['ucxl://a/r', 'project', 'missing'],
  ['ucxl://a/r//t', 'project', 'is empty'],
  ['ucxl://a/r/p/', 'task', 'is empty'],
  ['ucxl://a/r/p/t*', 'task'],
  // Temporal segments.
  ['ucxl://a:r@p:t/*', 'temporal'],
  ['ucxl://a:r@p:t/*^x', 'temporal'],
  ['ucxl://a:r@p:t/*^^', 'temporal'],
  ['ucxl://a:r@p:t/~~', 'temporal', 'missing its number'],
  ['ucxl://a:r@p:t/^^', 'temporal', 'missing its number'],
  ['ucxl://a:r@p:t/~~-1', 'temporal'],
  ['ucxl://a:r@p:t/^^1.5', 'temporal'],
  ['ucxl://a:r@p:t/~^1', 'temporal'],
  ['ucxl://a:r@p:t/~', 'temporal'],
  ['ucxl://a:r@p:t/^', 'temporal'],
  ['ucxl://a:r@p:t/*~1x/a', 'temporal'],
  ['ucxl://a:r@p:t/*~99999999999999999', 'temporal', 'larger than'],
  // Paths.
  ['ucxl://a:r@p:t/*^/./x', 'path', "'.' segment"],
  ['ucxl://a:r@p:t/*^/a/../b', 'path', "'..' segment"],
  ['ucxl://a:r@p:t/*^/..', 'path'],
  ['ucxl://a/r/p/t/..', 'path'],
  ['ucxl://a:r@p:t/*^/a b', 'path'],
  ['ucxl://a:r@p:t/*^/a?q=1', 'path'],
  ['ucxl://a:r@p:t/*^/a#f', 'path'],
  ['ucxl://a:r@p:t/*^/%20', 'path'],
  ['ucxl://a:r@p:t/*^/a\\b', 'path'],
  ['ucxl://a:r@p:t/*^/*^', 'path'],
  ['ucxl://a:r@p:t/x/*^', 'path'],
  ['ucxl://a:r@p:t/*^/docs/*', 'path', 'only allowed in patterns'],
  ['ucxl://a:r@p:t/*^/x:y', 'path'],
  ['ucxl://a:r@p:t/*^/é', 'path'],
  // Length bound, on the input and on the canonical form (`*` -> `any` and the added `*^` grow it).
  [`ucxl://a:r@p:t/*^/${'a'.repeat(MAX_ADDRESS_LENGTH)}`, 'address', 'longer than'],
  [`ucxl://*:*@*:*/${'a'.repeat(MAX_ADDRESS_LENGTH - 15)}`, 'address', 'canonical form'],
  // Not strings.
  [42, 'address', 'must be a string'],
  [null, 'address'],
  [undefined, 'address'],
  [{}, 'address'],
  [['ucxl://a:r@p:t'], 'address'],
  [Symbol('x'), 'address'],
  [10n, 'address']
]

describe('parseAddress: valid forms', () => {
  it.each(VALID)('%s', (input, canonical, fields) => {
    const address = parseAddress(input)
    expect(formatAddress(address)).toBe(canonical)
    if (fields) expect(address).toMatchObject(fields)
    // Canonical is a fixed point.
    expect(parseAddress(canonical)).toEqual(address)
    expect(formatAddress(canonical)).toBe(canonical)
    expect(isValidAddress(input)).toBe(true)
  })

  it('accepts an address of exactly the maximum length', () => {
    const prefix = 'ucxl://a:r@p:t/*^/'
    const raw = prefix + 'a'.repeat(MAX_ADDRESS_LENGTH - prefix.length)
    expect(raw.length).toBe(MAX_ADDRESS_LENGTH)
    expect(formatAddress(parseAddress(raw))).toBe(raw)
  })
})

describe('parseAddress: invalid forms', () => {
  it.each(INVALID)('%s -> %s', (input, field, reason) => {
    let error: unknown
    try {
      parseAddress(input as string)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(UCXLAddressError)
    const e = error as UCXLAddressError
    expect(e.name).toBe('UCXLAddressError')
    expect(e.field).toBe(field)
    expect(e.code).toBe(field === 'temporal' ? TEMPORAL_INVALID : INVALID_ADDRESS)
    if (reason) expect(e.reason).toContain(reason)
    expect(e.message).toContain(e.reason)
    if (typeof input === 'string')
      expect(input.startsWith(e.input.replace(/… \(\d+ characters\)$/, ''))).toBe(true)
    else expect(e.input).toMatch(/^<\w+>$/)
    expect(isValidAddress(input)).toBe(false)
  })

  it('names the input in full when short, truncated when long', () => {
    const short = 'ucxl://a:r@p:t/*^/a b'
    expect(() => parseAddress(short)).toThrow(expect.objectContaining({ input: short }))
    const long = 'ucxl://'.padEnd(5000, '!')
    try {
      parseAddress(long)
      expect.unreachable()
    } catch (err) {
      const e = err as UCXLAddressError
      expect(e.input.length).toBeLessThan(260)
      expect(e.input).toContain('(5000 characters)')
    }
  })
})
