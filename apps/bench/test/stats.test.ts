import { describe, expect, it } from 'vitest'
import { percentile, round, summarize } from '../src/stats.js'

describe('percentile', () => {
  it('interpolates between closest ranks', () => {
    const xs = [1, 2, 3, 4, 5]
    expect(percentile(xs, 0)).toBe(1)
    expect(percentile(xs, 50)).toBe(3)
    expect(percentile(xs, 100)).toBe(5)
    expect(percentile(xs, 25)).toBe(2)
    // rank 0.99 * 4 = 3.96 -> 4 + 0.96 * (5 - 4)
    expect(percentile(xs, 99)).toBeCloseTo(4.96, 10)
    expect(percentile([10, 20], 50)).toBe(15)
  })

  it('does not depend on input order and does not sort the caller’s array', () => {
    const xs = [9, 1, 7, 3, 5]
    expect(percentile(xs, 50)).toBe(5)
    expect(xs).toEqual([9, 1, 7, 3, 5])
  })

  it('handles one value, no value and a bad p', () => {
    expect(percentile([42], 99)).toBe(42)
    expect(percentile([], 50)).toBeNaN()
    expect(() => percentile([1], 101)).toThrow(RangeError)
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError)
  })

  it('puts p99 of 1..100 just under the top', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(xs, 99)).toBeCloseTo(99.01, 10)
    expect(percentile(xs, 50)).toBeCloseTo(50.5, 10)
  })
})

describe('summarize', () => {
  it('gives count, mean, min, max and percentiles', () => {
    const s = summarize([4, 1, 3, 2])
    expect(s).toMatchObject({ count: 4, mean: 2.5, min: 1, max: 4, p50: 2.5 })
    expect(s.p99).toBeCloseTo(3.97, 10)
  })

  it('gives NaN figures for an empty sample', () => {
    const s = summarize([])
    expect(s.count).toBe(0)
    expect(s.p50).toBeNaN()
    expect(s.mean).toBeNaN()
  })
})

describe('round', () => {
  it('keeps significant digits', () => {
    expect(round(123456, 3)).toBe(123000)
    expect(round(0.0012345, 3)).toBe(0.00123)
    expect(round(0)).toBe(0)
  })
})
