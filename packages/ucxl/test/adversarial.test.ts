import { describe, expect, it } from 'vitest'
import {
  isValidAddress,
  MAX_ADDRESS_LENGTH,
  matchesAddress,
  parseAddress,
  parsePattern,
  UCXLAddressError
} from '../src/index.js'

const KB100 = 100 * 1024

// Shapes that make backtracking parsers blow up: long runs of separators and near-misses.
const HUGE = [
  `ucxl://${'a:'.repeat(KB100 / 2)}`,
  `ucxl://${'a'.repeat(KB100)}`,
  `ucxl://a:r@p:t/${'~'.repeat(KB100)}`,
  `ucxl://a:r@p:t/*^/${'a/'.repeat(KB100 / 2)}!`,
  `ucxl://a:r@p:t/*^/${'/'.repeat(KB100)}`,
  `ucxl://a/r/p/t/${'./'.repeat(KB100 / 2)}`,
  `ucxl://a:r@p:t/*~${'9'.repeat(KB100)}`,
  '@'.repeat(KB100),
  'ucxl://'.repeat(KB100 / 7)
]

describe('adversarial input', () => {
  it.each(HUGE.map((s, i) => [i, s] as const))(
    '100 KB input %i is refused by the length bound',
    (_, input) => {
      let error: unknown
      try {
        parseAddress(input)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(UCXLAddressError)
      const e = error as UCXLAddressError
      expect(e.field).toBe('address')
      expect(e.reason).toBe(`is longer than ${MAX_ADDRESS_LENGTH} characters`)
      expect(e.input.length).toBeLessThan(260)
      expect(() => parsePattern(input)).toThrow(UCXLAddressError)
      expect(isValidAddress(input)).toBe(false)
    }
  )

  it('handles near-limit hostile inputs without blowing up', () => {
    const n = MAX_ADDRESS_LENGTH - 32
    const inputs = [
      `ucxl://a:r@p:t/*^/${'a/'.repeat(n / 2)}`,
      `ucxl://a:r@p:t/*^/${'/'.repeat(n)}`,
      `ucxl://a:r@p:t/~~${'0'.repeat(n)}1`,
      `ucxl://a:r@p:t/*^/${'.'.repeat(n)}`,
      `ucxl://any:any@any:any/*^/${'*/'.repeat(n / 2 - 2)}**`
    ]
    // Not a benchmark: a sanity bound a hundred times above what a linear scan needs.
    const started = performance.now()
    for (let round = 0; round < 20; round++) {
      for (const input of inputs) {
        try {
          const p = parsePattern(input)
          matchesAddress(p, 'ucxl://a:r@p:t/*^/x')
        } catch (err) {
          expect(err).toBeInstanceOf(UCXLAddressError)
        }
      }
    }
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(parseAddress(inputs[1]!).path).toBe('')
    expect(parseAddress(inputs[2]!).temporal).toEqual({ kind: 'back', n: 1 })
    expect(parseAddress(inputs[3]!).path).toBe('.'.repeat(n))
  })
})
