import { describe, expect, it, vi } from 'vitest'
import {
  ChorusError,
  errorText,
  InvalidInputError,
  isAbortError,
  NotFoundError,
  NotStartedError,
  OperationTimeoutError
} from '../src/index.js'

class RecordGoneError extends NotFoundError {}

describe('ChorusError', () => {
  it('carries a stable name, code and cause', () => {
    const cause = new Error('disk')
    const err = new NotFoundError('/CHORUS/ucxl/x', { code: 'DHT_NOT_FOUND', cause })
    expect(err.name).toBe('NotFoundError')
    expect(err.code).toBe('DHT_NOT_FOUND')
    expect(err.cause).toBe(cause)
    expect(err.message).toBe('/CHORUS/ucxl/x was not found')
    expect(err).toBeInstanceOf(Error)
  })

  it('names a subclass after itself without repeating it', () => {
    expect(new RecordGoneError('k').name).toBe('RecordGoneError')
  })

  it('isInstance() follows the class chain', () => {
    const gone = new RecordGoneError('k')
    expect(ChorusError.isInstance(gone)).toBe(true)
    expect(NotFoundError.isInstance(gone)).toBe(true)
    expect(RecordGoneError.isInstance(gone)).toBe(true)
    expect(NotFoundError.isInstance(new NotStartedError('x'))).toBe(false)
    expect(RecordGoneError.isInstance(new NotFoundError('k'))).toBe(false)
  })

  it('isInstance() is false for look-alikes that are not CHORUS errors', () => {
    const fake = Object.assign(new Error('x'), { name: 'NotFoundError', code: 'NOT_FOUND' })
    expect(NotFoundError.isInstance(fake)).toBe(false)
    expect(ChorusError.isInstance(undefined)).toBe(false)
    expect(ChorusError.isInstance('NotFoundError')).toBe(false)
    expect(ChorusError.isInstance({ name: 'NotFoundError' })).toBe(false)
  })

  it('isInstance() recognises an error from another copy of the package, where instanceof cannot', async () => {
    vi.resetModules()
    const copy = (await import('../src/index.js')) as typeof import('../src/index.js')
    expect(copy.NotFoundError).not.toBe(NotFoundError)
    const foreign = new copy.NotFoundError('k')
    expect(foreign instanceof NotFoundError).toBe(false)
    expect(NotFoundError.isInstance(foreign)).toBe(true)
    expect(ChorusError.isInstance(foreign)).toBe(true)
    expect(copy.NotFoundError.isInstance(new NotFoundError('k'))).toBe(true)
  })

  it('keeps its markers out of JSON and enumeration', () => {
    const err = new InvalidInputError('replicationFactor', 'must be at least 1')
    expect(Object.keys(err)).toEqual(['code', 'name', 'field', 'reason'])
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'INVALID_INPUT',
      name: 'InvalidInputError',
      field: 'replicationFactor',
      reason: 'must be at least 1'
    })
  })

  it('generic errors have generic codes and say what failed', () => {
    expect(new OperationTimeoutError('get', 250)).toMatchObject({
      code: 'TIMEOUT',
      operation: 'get',
      ms: 250,
      message: 'get timed out after 250 ms'
    })
    expect(new NotStartedError('storage')).toMatchObject({ code: 'NOT_STARTED', component: 'storage' })
    expect(new InvalidInputError('key', 'empty').message).toBe('invalid key: empty')
  })
})

describe('errorText', () => {
  it('is one bounded line without the stack', () => {
    const text = errorText(new Error(`a\nb ${'x'.repeat(1000)}`))
    expect(text.startsWith('Error: a b x')).toBe(true)
    expect(text.length).toBeLessThanOrEqual(301)
    expect(text).not.toContain('\n')
  })

  it('describes non-errors by type, never by dumping them', () => {
    expect(errorText({ secret: 'AGE-SECRET-KEY-1' })).toBe('non-error value of type object')
    expect(errorText(null)).toBe('non-error value of type null')
    expect(errorText('plain')).toBe('plain')
  })
})

describe('isAbortError', () => {
  it('is true for aborts and signal timeouts only', async () => {
    const c = new AbortController()
    c.abort()
    expect(isAbortError(c.signal.reason)).toBe(true)
    const t = AbortSignal.timeout(1)
    await new Promise((r) => setTimeout(r, 20))
    expect(isAbortError(t.reason)).toBe(true)
    expect(isAbortError(new OperationTimeoutError('x', 1))).toBe(false)
    expect(isAbortError(undefined)).toBe(false)
  })
})
