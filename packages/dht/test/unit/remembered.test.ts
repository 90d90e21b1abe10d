import { describe, expect, it } from 'vitest'
import { remembered } from '../../src/remembered.js'

describe('remembered', () => {
  it('computes each argument once while remembered, undefined results too, and starts over when full', () => {
    const calls: string[] = []
    const f = remembered(2, (k) => {
      calls.push(k)
      return k === 'bad' ? undefined : k.length
    })
    expect([f('a'), f('bad'), f('a'), f('bad')]).toEqual([1, undefined, 1, undefined])
    expect(calls).toEqual(['a', 'bad'])
    // a third argument fills it: the memo starts over, holding only the newest
    expect(f('ccc')).toBe(3)
    expect(f('a')).toBe(1)
    expect(f('ccc')).toBe(3)
    expect(calls).toEqual(['a', 'bad', 'ccc', 'a'])
  })
})
