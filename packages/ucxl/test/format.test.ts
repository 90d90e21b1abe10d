import { describe, expect, it } from 'vitest'
import {
  baseAddress,
  formatAddress,
  formatPattern,
  formatTemporal,
  normaliseAddress,
  parsePattern,
  TEMPORAL_INVALID,
  type UCXLAddress,
  UCXLAddressError
} from '../src/index.js'

const obj: UCXLAddress = {
  agent: 'agent001',
  role: 'backend_developer',
  project: 'project123',
  task: 'task456',
  temporal: { kind: 'latest' },
  path: 'decision'
}

function errorOf(fn: () => unknown): UCXLAddressError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UCXLAddressError)
    return err as UCXLAddressError
  }
  throw new Error('expected a UCXLAddressError')
}

describe('formatAddress on objects', () => {
  it('writes the canonical form', () => {
    expect(formatAddress(obj)).toBe('ucxl://agent001:backend_developer@project123:task456/*^/decision')
    expect(formatAddress({ ...obj, path: '' })).toBe(
      'ucxl://agent001:backend_developer@project123:task456/*^'
    )
  })

  it('writes every temporal kind', () => {
    expect(formatTemporal({ kind: 'latest' })).toBe('*^')
    expect(formatTemporal({ kind: 'first' })).toBe('*~')
    expect(formatTemporal({ kind: 'version', n: 4 })).toBe('*~4')
    expect(formatTemporal({ kind: 'back', n: 2 })).toBe('~~2')
    expect(formatTemporal({ kind: 'forward', n: 1 })).toBe('^^1')
  })

  it('normalises hand-built objects like parsed strings', () => {
    const a = normaliseAddress({ ...obj, agent: '*', path: '/docs//a.md/' })
    expect(a).toEqual({ ...obj, agent: 'any', path: 'docs/a.md' })
    // A missing path is the empty path.
    const { path: _, ...noPath } = obj
    expect(formatAddress(noPath as UCXLAddress)).toBe(
      'ucxl://agent001:backend_developer@project123:task456/*^'
    )
  })

  it('refuses bad objects with the field at fault', () => {
    expect(errorOf(() => formatAddress({ ...obj, role: 'a b' })).field).toBe('role')
    expect(errorOf(() => formatAddress({ ...obj, project: 7 as unknown as string })).field).toBe('project')
    expect(errorOf(() => formatAddress({ ...obj, task: '' })).field).toBe('task')
    expect(errorOf(() => formatAddress({ ...obj, task: 'x'.repeat(3000) })).reason).toContain('too long')
    expect(errorOf(() => formatAddress({ ...obj, path: '../x' })).field).toBe('path')
    expect(errorOf(() => formatAddress({ ...obj, path: 3 as unknown as string })).field).toBe('path')
    expect(errorOf(() => formatAddress({ ...obj, path: 'x'.repeat(3000) })).field).toBe('path')
    expect(errorOf(() => formatAddress({ ...obj, path: 'x/'.repeat(1020) })).field).toBe('address')
    expect(errorOf(() => formatAddress(null as unknown as UCXLAddress)).field).toBe('address')
    expect(errorOf(() => formatAddress(5 as unknown as UCXLAddress)).field).toBe('address')
  })

  it.each([
    [undefined],
    [null],
    ['*^'],
    [{ kind: 'newest' }],
    [{ kind: 'version' }],
    [{ kind: 'back', n: -1 }],
    [{ kind: 'forward', n: 1.5 }],
    [{ kind: 'version', n: Number.MAX_SAFE_INTEGER + 1 }],
    [{ kind: 'version', n: '3' }],
    [{ kind: 'version', n: 10n }]
  ])('refuses temporal %s with the temporal code', (temporal) => {
    const e = errorOf(() => formatAddress({ ...obj, temporal } as unknown as UCXLAddress))
    expect(e.field).toBe('temporal')
    expect(e.code).toBe(TEMPORAL_INVALID)
  })

  it('turns a throwing getter into a UCXLAddressError with the cause', () => {
    const boom = new Error('boom')
    const hostile = new Proxy(obj, {
      get() {
        throw boom
      }
    })
    const e = errorOf(() => formatAddress(hostile))
    expect(e.field).toBe('address')
    expect(e.cause).toBe(boom)
  })
})

describe('baseAddress', () => {
  it('drops the temporal segment', () => {
    expect(baseAddress('ucxl://a:r@p:t/~~3/x/y')).toBe('ucxl://a:r@p:t/x/y')
    expect(baseAddress('ucxl://a/r/p/t')).toBe('ucxl://a:r@p:t')
    expect(baseAddress({ ...obj, temporal: { kind: 'version', n: 9 } })).toBe(
      'ucxl://agent001:backend_developer@project123:task456/decision'
    )
  })

  it('is itself an accepted spelling of the latest version', () => {
    expect(formatAddress(baseAddress('ucxl://a:r@p:t/*~2/x'))).toBe('ucxl://a:r@p:t/*^/x')
  })
})

describe('patterns', () => {
  it('allow whole-segment path wildcards and format them', () => {
    expect(formatPattern('ucxl://*:r@p:any/*^/docs/*/x/**')).toBe('ucxl://any:r@p:any/*^/docs/*/x/**')
    expect(parsePattern('ucxl://a/r/p/t/**').path).toBe('**')
    // Without a temporal segment a leading `*` / `**` is a path wildcard; a pattern can still have one.
    expect(formatPattern('ucxl://a:r@p:t/*/x')).toBe('ucxl://a:r@p:t/*^/*/x')
    expect(formatPattern('ucxl://a:r@p:t/~~2/*')).toBe('ucxl://a:r@p:t/~~2/*')
    expect(() => parsePattern('ucxl://a:r@p:t/*x')).toThrow(expect.objectContaining({ field: 'temporal' }))
    expect(formatPattern({ ...obj, path: '*' })).toBe(
      'ucxl://agent001:backend_developer@project123:task456/*^/*'
    )
  })

  it.each([
    ['ucxl://a:r@p:t/*^/**/x', "'**' may only be the last"],
    ['ucxl://a:r@p:t/*^/doc*', 'whole path segments'],
    ['ucxl://a:r@p:t/*^/***', 'whole path segments']
  ])('refuses %s', (pattern, reason) => {
    const e = errorOf(() => parsePattern(pattern))
    expect(e.field).toBe('path')
    expect(e.reason).toContain(reason)
  })

  it('are not addresses', () => {
    expect(errorOf(() => formatAddress({ ...obj, path: 'docs/*' })).reason).toContain(
      'only allowed in patterns'
    )
  })
})
