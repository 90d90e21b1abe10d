import { BackgroundTasks, silentLogger } from '@chorus/common'
import { createLocalDHT, type DHT } from '@chorus/dht'
import { afterEach, describe, expect, it } from 'vitest'
import { BackendCalls } from '../../src/backend-calls.js'
import { FailoverState } from '../../src/failover.js'
import type { HealthProbe } from '../../src/index.js'
import { Prober } from '../../src/prober.js'
import { waitFor } from '../helpers.js'

const stops: Array<() => void> = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

/** A prober wired to a real fail-over state and backend calls, with a probe the test controls. */
function setup(interval: number, timeout = 1_000) {
  const lifetime = new AbortController()
  let started = true
  let passes: boolean | undefined = true
  let calls = 0
  let passed = 0
  const probe: HealthProbe = async (_primary, { signal }) => {
    calls++
    if (passes === undefined)
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    if (!passes) throw new Error('no peer')
  }
  const failover = new FailoverState(
    { logger: silentLogger },
    { failureThreshold: 3, recoveryThreshold: 2, mode: 'auto' }
  )
  const backendCalls = new BackendCalls(
    { lifetime: () => lifetime.signal, health: failover },
    { operationTimeout: 10_000, latencyWindow: 16 }
  )
  const tasks = new BackgroundTasks()
  const prober = new Prober(
    {
      primary: createLocalDHT() as DHT,
      calls: backendCalls,
      isStarted: () => started,
      onPassed: () => void passed++,
      tasks
    },
    { probe, interval, timeout }
  )
  stops.push(() => {
    started = false
    prober.stop()
  })
  return {
    prober,
    failover,
    backendCalls,
    tasks,
    calls: () => calls,
    passed: () => passed,
    /** `undefined`: the probe hangs until its signal aborts. */
    setPasses: (p: boolean | undefined) => {
      passes = p
    },
    stopHybrid: () => {
      started = false
      prober.stop()
    }
  }
}

describe('Prober', () => {
  it('probes on request: passing calls onPassed, failing resolves false and counts against health', async () => {
    const t = setup(0)
    expect(await t.prober.probe()).toBe(true)
    expect(t.passed()).toBe(1)
    t.setPasses(false)
    expect(await t.prober.probe()).toBe(false)
    expect(t.passed()).toBe(1)
    expect(t.failover.health().real).toMatchObject({ status: 'degraded', consecutive: 1 })
    expect(t.backendCalls.metrics().real.byOperation.probe).toEqual({ operations: 2, errors: 1 })
  })

  it('probes every interval: failing probes fail over, passing ones fail back', async () => {
    const t = setup(20)
    t.setPasses(false)
    t.prober.start()
    await waitFor('fail-over from probes alone', () => t.failover.activeBackend() === 'mock', 5_000)
    expect(t.failover.counters().failovers).toBe(1)
    t.setPasses(true)
    await waitFor('fail-back from probes alone', () => t.failover.activeBackend() === 'real', 5_000)
    expect(t.failover.counters().failbacks).toBe(1)
    expect(t.passed()).toBeGreaterThanOrEqual(2)
  })

  it('stops probing on stop, and a restart runs one chain, not two', async () => {
    const t = setup(20)
    t.prober.start()
    await waitFor('a few probes', () => t.calls() >= 3, 5_000)
    t.prober.stop()
    await t.tasks.drain()
    const after = t.calls()
    await new Promise((r) => setTimeout(r, 100))
    expect(t.calls()).toBe(after)
    // Two starts in a row: the first chain's timer is replaced, so the rate stays one per interval.
    t.prober.start()
    t.prober.start()
    const from = t.calls()
    await new Promise((r) => setTimeout(r, 210))
    expect(t.calls() - from).toBeLessThanOrEqual(12)
    t.stopHybrid()
  })

  it('bounds a probe by its timeout and rejects only on the caller abort', async () => {
    const t = setup(0, 50)
    t.setPasses(undefined) // hangs until its signal aborts
    const t0 = Date.now()
    expect(await t.prober.probe()).toBe(false)
    expect(Date.now() - t0).toBeLessThan(1_000)
    const controller = new AbortController()
    const probe = t.prober.probe(controller.signal)
    controller.abort()
    await expect(probe).rejects.toMatchObject({ name: 'AbortError' })
    // The abort is not the primary's fault.
    expect(t.failover.health().real.errorCount).toBe(1)
  })
})
