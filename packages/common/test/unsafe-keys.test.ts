import { describe, expect, it } from 'vitest'
import { findUnsafeKey, isUnsafeKey } from '../src/index.js'

describe('findUnsafeKey', () => {
  it('names the first key that could reach a prototype, at any depth', () => {
    expect(findUnsafeKey(JSON.parse('{"a": {"b": [{"__proto__": 1}]}}'))).toBe('a.b[0].__proto__')
    expect(findUnsafeKey({ a: { constructor: { prototype: {} } } })).toBe('a.constructor')
    expect(findUnsafeKey({ a: 1, b: [1, { c: 2 }] })).toBeUndefined()
    expect(findUnsafeKey('text')).toBeUndefined()
    expect(isUnsafeKey('prototype')).toBe(true)
    expect(isUnsafeKey('roles')).toBe(false)
  })

  it('terminates on documents that refer to themselves (YAML aliases)', () => {
    const a: unknown[] = []
    a.push(a)
    const o: Record<string, unknown> = { x: 1 }
    o.self = o
    expect(findUnsafeKey({ roles: a })).toBeUndefined()
    expect(findUnsafeKey(o)).toBeUndefined()
    const p = JSON.parse('{"loop": {}, "__proto__": 1}')
    p.loop.back = p
    expect(findUnsafeKey(p)).toBe('__proto__')
  })
})
