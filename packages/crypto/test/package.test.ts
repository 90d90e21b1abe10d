import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

describe('package entry', () => {
  it('loads', () => {
    expect(typeof api).toBe('object')
  })
})
