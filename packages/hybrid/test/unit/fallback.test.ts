import { DHTTimeoutError, InvalidKeyError, InvalidRecordError, NotFoundError } from '@chorus/dht'
import { describe, expect, it } from 'vitest'
import {
  attempt,
  errorKind,
  firstFound,
  notFound,
  type Source,
  unanswered,
  valueOr
} from '../../src/fallback.js'
import { BackendsUnavailableError } from '../../src/index.js'

const live = new AbortController().signal
const stopped = AbortSignal.abort()
const aborted = AbortSignal.abort()
const fails = (err: unknown) => () => Promise.reject(err)

describe('errorKind', () => {
  it('classifies each kind of backend error', () => {
    expect(errorKind(new InvalidRecordError('/k', 'too big'), undefined, live)).toBe('invalid')
    expect(errorKind(new InvalidKeyError('k', 'no namespace'), undefined, live)).toBe('invalid')
    expect(errorKind(new Error('x'), aborted, live)).toBe('aborted')
    expect(errorKind(new Error('x'), undefined, stopped)).toBe('shutdown')
    expect(errorKind(new NotFoundError('/k'), undefined, live)).toBe('not-found')
    expect(errorKind(new DHTTimeoutError('real getValue', 10), undefined, live)).toBe('failure')
    expect(errorKind('not even an error', undefined, live)).toBe('failure')
    // An invalid record stays invalid whatever else happened.
    expect(errorKind(new InvalidRecordError('/k', 'bad'), aborted, stopped)).toBe('invalid')
  })
})

describe('attempt', () => {
  it('returns the value, or the kind and error of a failure', async () => {
    expect(await attempt(async () => 7, { lifetime: live })).toEqual({ ok: true, value: 7 })
    const miss = new NotFoundError('/k')
    expect(await attempt(fails(miss), { lifetime: live })).toEqual({
      ok: false,
      kind: 'not-found',
      error: miss
    })
    const down = new Error('down')
    expect(await attempt(fails(down), { lifetime: live })).toEqual({
      ok: false,
      kind: 'failure',
      error: down
    })
    expect(await attempt(fails(down), { lifetime: stopped })).toEqual({
      ok: false,
      kind: 'shutdown',
      error: down
    })
  })

  it('always re-throws an invalid record or key, and the caller abort by default', async () => {
    const invalid = new InvalidRecordError('/k', 'bad')
    await expect(attempt(fails(invalid), { lifetime: live, passThrough: [] })).rejects.toBe(invalid)
    const abort = new DOMException('aborted', 'AbortError')
    await expect(attempt(fails(abort), { signal: aborted, lifetime: live })).rejects.toBe(abort)
  })

  it('re-throws exactly the kinds asked for', async () => {
    const abort = new DOMException('aborted', 'AbortError')
    // A write that must journal before it passes an abort on asks for nothing.
    expect(await attempt(fails(abort), { signal: aborted, lifetime: live, passThrough: [] })).toMatchObject({
      ok: false,
      kind: 'aborted'
    })
    const stop = new Error('stopping')
    await expect(
      attempt(fails(stop), { lifetime: stopped, passThrough: ['aborted', 'shutdown'] })
    ).rejects.toBe(stop)
    const down = new Error('down')
    await expect(attempt(fails(down), { lifetime: live, passThrough: ['failure'] })).rejects.toBe(down)
  })

  it('valueOr falls back on any outcome but a value', async () => {
    expect(valueOr(await attempt(async () => [1], { lifetime: live }), [])).toEqual([1])
    expect(valueOr(await attempt(fails(new Error('x')), { lifetime: live }), [])).toEqual([])
  })
})

describe('firstFound', () => {
  const source = <T>(backend: 'real' | 'mock', read: () => Promise<T | undefined>): Source<T> => ({
    backend,
    read
  })

  it('asks in order and stops at the first value', async () => {
    const asked: string[] = []
    const found = await firstFound(
      [
        source('real', async () => {
          asked.push('real')
          throw new NotFoundError('/k')
        }),
        source('mock', async () => {
          asked.push('mock')
          return 'local'
        }),
        source('real', async () => {
          asked.push('own')
          return 'never'
        })
      ],
      { lifetime: live }
    )
    expect(found).toEqual({ value: 'local', failures: {} })
    expect(asked).toEqual(['real', 'mock'])
  })

  it('remembers failures, treats undefined and not-found as misses', async () => {
    const down = new DHTTimeoutError('real getValue', 10)
    const found = await firstFound([source('real', fails(down)), source('mock', async () => undefined)], {
      lifetime: live
    })
    expect(found).toEqual({ failures: { real: down } })
  })

  it('passes an invalid key and a caller abort straight through', async () => {
    const invalid = new InvalidKeyError('k', 'no namespace')
    await expect(
      firstFound([source('mock', fails(invalid)), source('real', async () => 'x')], { lifetime: live })
    ).rejects.toBe(invalid)
    const abort = new DOMException('aborted', 'AbortError')
    await expect(
      firstFound([source('real', fails(abort)), source('mock', async () => 'x')], {
        signal: aborted,
        lifetime: live
      })
    ).rejects.toBe(abort)
  })
})

describe('unanswered and notFound', () => {
  const net = new DHTTimeoutError('real getValue', 10)
  const disk = new Error('disk')

  it('both failed: BackendsUnavailableError with the network error as cause', () => {
    const err = unanswered('getValue', { real: net, mock: disk }, true)
    expect(err).toBeInstanceOf(BackendsUnavailableError)
    expect(err).toMatchObject({ code: 'HYBRID_UNAVAILABLE', operation: 'getValue', cause: net })
  })

  it('only the network failed: its own error (a timeout is not a not-found)', () => {
    expect(unanswered('getValue', { real: net }, true)).toBe(net)
    expect(notFound('getValue', '/k', { real: net }, true)).toBe(net)
  })

  it('only the local backend failed: unavailable when it was the only one asked, else not found', () => {
    expect(unanswered('getValues', { mock: disk }, false)).toMatchObject({
      cause: disk,
      operation: 'getValues'
    })
    expect(unanswered('getValues', { mock: disk }, true)).toBeUndefined()
    expect(notFound('getValue', '/k', { mock: disk }, true)).toBeInstanceOf(NotFoundError)
  })

  it('no failures: the value does not exist', () => {
    expect(unanswered('getValue', {}, true)).toBeUndefined()
    expect(notFound('getValue', '/k', {}, false)).toMatchObject({ name: 'NotFoundError', key: '/k' })
  })
})
