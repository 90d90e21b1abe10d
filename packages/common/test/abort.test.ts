import { describe, expect, it } from 'vitest'
import {
  abortError,
  anySignal,
  BackgroundTasks,
  OperationTimeoutError,
  pause,
  throwIfAborted,
  waitAtMost,
  withTimeout
} from '../src/index.js'

const timeout = (): Error => new OperationTimeoutError('op', 20)
const never = <T>(): Promise<T> => new Promise<T>(() => {})

describe('abort helpers', () => {
  it('abortError is AbortError-named whatever the reason', () => {
    const c = new AbortController()
    c.abort(new Error('shutdown'))
    const err = abortError(c.signal)
    expect(err.name).toBe('AbortError')
    expect((err as Error & { cause: unknown }).cause).toBe(c.signal.reason)
    expect(() => throwIfAborted(c.signal)).toThrow(expect.objectContaining({ name: 'AbortError' }))
    expect(() => throwIfAborted(undefined)).not.toThrow()
  })

  it('anySignal aborts with the first of its signals and skips undefined', () => {
    const a = new AbortController()
    const s = anySignal(undefined, a.signal)
    expect(s.aborted).toBe(false)
    a.abort('why')
    expect(s.aborted).toBe(true)
    expect(s.reason).toBe('why')
  })

  it('pause ends early on abort and never rejects', async () => {
    const c = new AbortController()
    const started = performance.now()
    const p = pause(10_000, { signal: c.signal })
    c.abort()
    await expect(p).resolves.toBeUndefined()
    expect(performance.now() - started).toBeLessThan(5_000)
    await expect(pause(1_000, { signal: c.signal })).resolves.toBeUndefined()
  })
})

describe('waitAtMost', () => {
  it('passes the value or the rejection through', async () => {
    await expect(waitAtMost(Promise.resolve(7), 1_000, timeout)).resolves.toBe(7)
    await expect(waitAtMost(Promise.reject(new Error('x')), 1_000, timeout)).rejects.toThrow('x')
  })

  it('rejects with the timeout error after ms, leaving the work running', async () => {
    let finished = false
    const work = new Promise<void>((r) => setTimeout(() => r(), 60)).then(() => {
      finished = true
    })
    await expect(waitAtMost(work, 10, timeout)).rejects.toBeInstanceOf(OperationTimeoutError)
    await work
    expect(finished).toBe(true)
  })

  it('rejects with the signal reason on abort, and at once when already aborted', async () => {
    const c = new AbortController()
    const p = waitAtMost(never(), 10_000, timeout, c.signal)
    c.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
    await expect(waitAtMost(never(), 10_000, timeout, c.signal)).rejects.toThrow('stop')
  })
})

describe('withTimeout', () => {
  it('gives fn a signal and returns its value', async () => {
    await expect(withTimeout(1_000, timeout, [], async (s) => s.aborted)).resolves.toBe(false)
  })

  it('rejects with the timeout error even when fn ignores its signal', async () => {
    let seen: AbortSignal | undefined
    const p = withTimeout(20, timeout, [], (s) => {
      seen = s
      return never()
    })
    await expect(p).rejects.toBeInstanceOf(OperationTimeoutError)
    expect(seen?.aborted).toBe(true)
  })

  it('rejects with a caller signal reason, and does not call fn when already aborted', async () => {
    const c = new AbortController()
    c.abort(new Error('caller'))
    let called = false
    await expect(
      withTimeout(1_000, timeout, [undefined, c.signal], async () => {
        called = true
      })
    ).rejects.toThrow('caller')
    expect(called).toBe(false)
  })
})

describe('BackgroundTasks', () => {
  it('counts tasks in flight, swallows their failures and drains them', async () => {
    const tasks = new BackgroundTasks()
    let release!: () => void
    const held = new Promise<void>((r) => {
      release = r
    })
    tasks.track(held)
    const failing = tasks.track(Promise.reject(new Error('bad')))
    expect(tasks.size).toBe(2)
    await tasks.any()
    await expect(failing).rejects.toThrow('bad')
    expect(tasks.size).toBe(1)
    const drained = tasks.drain()
    release()
    await drained
    expect(tasks.size).toBe(0)
  })

  it('drain waits for tasks that tasks start', async () => {
    const tasks = new BackgroundTasks()
    let innerDone = false
    tasks.track(
      (async () => {
        await pause(5)
        tasks.track(pause(20).then(() => (innerDone = true)))
      })()
    )
    await tasks.drain()
    expect(innerDone).toBe(true)
  })
})
