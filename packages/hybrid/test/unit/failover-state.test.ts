import { silentLogger } from '@chorus/common'
import { describe, expect, it } from 'vitest'
import { type FailoverInit, FailoverState } from '../../src/failover.js'
import { HybridConfigError } from '../../src/index.js'

/** A clock that moves only when told. */
function fakeClock(start = Date.UTC(2025, 0, 1)) {
  let t = start
  return {
    now: () => new Date(t),
    advance: (ms: number) => {
      t += ms
    }
  }
}

function setup(init: Partial<FailoverInit> = {}) {
  const clock = fakeClock()
  let recovered = 0
  const state = new FailoverState(
    { logger: silentLogger, onPrimaryRecovered: () => void recovered++ },
    { failureThreshold: 3, recoveryThreshold: 2, mode: 'auto', now: clock.now, ...init }
  )
  const fail = (n = 1) => {
    for (let i = 0; i < n; i++) state.book('real', 'putValue', 5, new Error('down'))
  }
  const pass = (n = 1) => {
    for (let i = 0; i < n; i++) state.book('real', 'probe', 2, undefined)
  }
  return { state, clock, fail, pass, recovered: () => recovered }
}

describe('FailoverState', () => {
  it('goes healthy, degraded, failed at the threshold and fails over in auto mode', () => {
    const { state, clock, fail } = setup()
    expect(state.health().real).toMatchObject({ status: 'healthy', lastCheck: null, consecutive: 0 })
    expect(state.activeBackend()).toBe('real')
    clock.advance(1_000)
    fail(2)
    expect(state.health().real).toMatchObject({ status: 'degraded', consecutive: 2, errorCount: 2 })
    expect(state.health().real.lastCheck).toEqual(new Date(Date.UTC(2025, 0, 1) + 1_000))
    expect(state.activeBackend()).toBe('real')
    clock.advance(1_000)
    fail()
    expect(state.health().real.status).toBe('failed')
    expect(state.activeBackend()).toBe('mock')
    expect(state.primaryActive()).toBe(false)
    expect(state.primaryUsable()).toBe(false)
    expect(state.counters()).toEqual({
      failovers: 1,
      failbacks: 0,
      lastFailoverAt: new Date(Date.UTC(2025, 0, 1) + 2_000),
      lastFailbackAt: null
    })
    // More failures while failed are no second fail-over.
    fail(5)
    expect(state.counters().failovers).toBe(1)
  })

  it('a success resets the failure count below the threshold', () => {
    const { state, fail, pass } = setup()
    fail(2)
    pass()
    fail(2)
    expect(state.health().real).toMatchObject({ status: 'degraded', consecutive: 2, errorCount: 4 })
    expect(state.activeBackend()).toBe('real')
  })

  it('fails back only after recoveryThreshold successes in a row, and says so once', () => {
    const { state, clock, fail, pass, recovered } = setup()
    fail(3)
    pass()
    expect(state.activeBackend()).toBe('mock')
    fail()
    pass()
    expect(state.activeBackend()).toBe('mock') // the failure in between reset the successes
    clock.advance(5_000)
    pass()
    expect(state.activeBackend()).toBe('real')
    expect(state.health().real).toMatchObject({ status: 'healthy', consecutive: 0 })
    expect(state.counters()).toMatchObject({
      failovers: 1,
      failbacks: 1,
      lastFailbackAt: new Date(Date.UTC(2025, 0, 1) + 5_000)
    })
    expect(recovered()).toBe(1)
    pass(3)
    expect(recovered()).toBe(1)
  })

  it('a pinned mode decides the backend whatever the health, and counts no fail-over', () => {
    const { state, fail, pass, recovered } = setup({ mode: 'real' })
    fail(3)
    expect(state.health().real.status).toBe('failed')
    expect(state.activeBackend()).toBe('real')
    expect(state.primaryUsable()).toBe(true)
    pass(2)
    // Recovery is still reported (journaled writes may go out), but it is no fail-back.
    expect(recovered()).toBe(1)
    expect(state.counters()).toMatchObject({ failovers: 0, failbacks: 0 })

    expect(state.switchBackend('mock')).toBe(true)
    expect(state.mode).toBe('mock')
    expect(state.activeBackend()).toBe('mock')
    expect(state.primaryUsable()).toBe(false)
    expect(state.switchBackend('mock')).toBe(false)
  })

  it('switching to auto hands the choice back to health', () => {
    const { state, fail } = setup({ mode: 'real' })
    fail(3)
    expect(state.activeBackend()).toBe('real')
    state.switchBackend('auto')
    expect(state.activeBackend()).toBe('mock')
  })

  it('tracks the local backend too, without failing over for it', () => {
    const { state } = setup()
    for (let i = 0; i < 3; i++) state.book('mock', 'getValue', 1, new Error('disk'))
    expect(state.health().mock.status).toBe('failed')
    expect(state.activeBackend()).toBe('real')
    expect(state.counters().failovers).toBe(0)
  })

  it('refuses an unknown mode', () => {
    const { state } = setup()
    expect(() => state.switchBackend('both' as 'auto')).toThrow(HybridConfigError)
    expect(() => setup({ mode: 'x' as 'auto' })).toThrow(HybridConfigError)
    expect(state.mode).toBe('auto')
  })
})
