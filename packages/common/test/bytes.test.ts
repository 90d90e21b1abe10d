import { describe, expect, it } from 'vitest'
import { bytesEqual, copyBytes } from '../src/index.js'

describe('bytes', () => {
  it('bytesEqual compares the bytes of views in place, whatever their buffers and offsets', () => {
    const big = new Uint8Array([9, 1, 2, 3, 9])
    const view = big.subarray(1, 4)
    expect(bytesEqual(view, new Uint8Array([1, 2, 3]))).toBe(true)
    expect(bytesEqual(Buffer.from([1, 2, 3]), view)).toBe(true)
    expect(bytesEqual(view, new Uint8Array([1, 2, 4]))).toBe(false)
    // a prefix is not equal, nor is the longer array
    expect(bytesEqual(view, new Uint8Array([1, 2]))).toBe(false)
    expect(bytesEqual(new Uint8Array([1, 2]), view)).toBe(false)
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true)
    // nothing was copied into or changed in the views' buffer
    expect([...big]).toEqual([9, 1, 2, 3, 9])
  })

  it('copyBytes returns a plain array in a buffer of its own, exactly its length', () => {
    const pooled = Buffer.from('a small string, from the pool')
    const copy = copyBytes(pooled.subarray(2, 7))
    expect(copy.byteLength).toBe(5)
    expect(copy.buffer.byteLength).toBe(5)
    expect(Buffer.isBuffer(copy)).toBe(false)
    expect(bytesEqual(copy, pooled.subarray(2, 7))).toBe(true)
  })
})
