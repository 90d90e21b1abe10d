import { describe, expect, it } from 'vitest'
import { isWildcardAddress, matchesAddress, parseAddress, UCXLAddressError } from '../src/index.js'

const ADDR = 'ucxl://agent001:backend_developer@project123:task456/*^/docs/api/v2.md'

const CASES: Array<[string, string, boolean]> = [
  // Components.
  [ADDR, ADDR, true],
  ['ucxl://any:any@any:any/*^/docs/api/v2.md', ADDR, true],
  ['ucxl://*:backend_developer@project123:*/docs/api/v2.md', ADDR, true],
  ['ucxl://agent002:any@any:any/*^/docs/api/v2.md', ADDR, false],
  ['ucxl://any:frontend_developer@any:any/*^/**', ADDR, false],
  ['ucxl://any:any@project999:any/*^/**', ADDR, false],
  ['ucxl://any:any@any:task999/*^/**', ADDR, false],
  ['ucxl://Agent001:any@any:any/*^/**', ADDR, false],
  // A wildcard in the address is matched only by a wildcard in the pattern.
  ['ucxl://agent001:r@p:t/*^', 'ucxl://any:r@p:t/*^', false],
  ['ucxl://any:r@p:t/*^', 'ucxl://any:r@p:t/*^', true],
  // Paths.
  ['ucxl://any:any@any:any/*^/**', ADDR, true],
  ['ucxl://any:any@any:any/*^/**', 'ucxl://a:r@p:t', true],
  ['ucxl://any:any@any:any/*^/docs/**', ADDR, true],
  ['ucxl://any:any@any:any/*^/docs/**', 'ucxl://a:r@p:t/*^/docs', true],
  ['ucxl://any:any@any:any/*^/docs/**', 'ucxl://a:r@p:t/*^/docsx/a', false],
  ['ucxl://any:any@any:any/*^/docs/*', 'ucxl://a:r@p:t/*^/docs/a', true],
  ['ucxl://any:any@any:any/*^/docs/*', 'ucxl://a:r@p:t/*^/docs', false],
  ['ucxl://any:any@any:any/*^/docs/*', ADDR, false],
  ['ucxl://any:any@any:any/*^/docs/*/v2.md', ADDR, true],
  ['ucxl://any:any@any:any/*^/*/*/*', ADDR, true],
  ['ucxl://any:any@any:any/*^/*', 'ucxl://a:r@p:t', false],
  ['ucxl://any:any@any:any/*^', 'ucxl://a:r@p:t', true],
  ['ucxl://any:any@any:any/*^', ADDR, false],
  ['ucxl://any:any@any:any/*^/docs', ADDR, false],
  ['ucxl://any:any@any:any/*^/docs/api/v2.md/x', ADDR, false],
  // Temporal segments are ignored on both sides.
  ['ucxl://any:any@any:any/*~3/docs/**', ADDR, true],
  ['ucxl://any:any@any:any/*^/docs/**', 'ucxl://a:r@p:t/~~2/docs/a', true],
  // The legacy form works on both sides.
  [
    'ucxl://*/backend_developer/*/*/docs/**',
    'ucxl://agent001/backend_developer/project123/task456/docs/a',
    true
  ]
]

describe('matchesAddress', () => {
  it.each(CASES)('%s ~ %s -> %s', (pattern, address, expected) => {
    expect(matchesAddress(pattern, address)).toBe(expected)
  })

  it('takes parsed objects', () => {
    const a = parseAddress(ADDR)
    expect(matchesAddress({ ...a, agent: 'any', path: 'docs/**' }, a)).toBe(true)
    expect(matchesAddress({ ...a, role: 'other' }, a)).toBe(false)
  })

  it('throws UCXLAddressError for an invalid pattern or address', () => {
    expect(() => matchesAddress('ucxl://a:r@p:t/*^/**/x', ADDR)).toThrow(UCXLAddressError)
    expect(() => matchesAddress('ucxl://any:any@any:any/*^/**', 'ucxl://a:r@p:t/*^/docs/*')).toThrow(
      UCXLAddressError
    )
  })
})

describe('isWildcardAddress', () => {
  it.each([
    ['ucxl://a:r@p:t/*^/x', false],
    ['ucxl://a:r@p:t', false],
    ['ucxl://any:r@p:t/*^/x', true],
    ['ucxl://a:r@p:*/*^/x', true],
    ['ucxl://a:r@p:t/*^/docs/*', true],
    ['ucxl://a:r@p:t/*^/**', true]
  ])('%s -> %s', (address, expected) => {
    expect(isWildcardAddress(address)).toBe(expected)
  })
})
