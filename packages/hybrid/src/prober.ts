/**
 * The active health probe of the primary: every `interval` ms (in every mode, so health stays
 * current) and on request. Its outcome is booked like an operation's, so failed probes fail over
 * and passing ones fail back; a passing probe also lets journaled writes go out.
 */
import { abortError } from '@chorus/common'
import type { DHT } from '@chorus/dht'
import type { BackendCaller } from './backend-calls.js'
import type { HealthProbe } from './probe.js'

export interface ProberComponents {
  primary: DHT
  calls: BackendCaller
  /** Whether the hybrid runs (no probe is scheduled otherwise). */
  isStarted(): boolean
  /** Called after each passing probe. */
  onPassed(): void
  /** Keeps `stop()` of the hybrid waiting for a probe in flight. Default: not tracked. */
  tasks?: { track<T>(task: Promise<T>): Promise<T> }
}

export interface ProberInit {
  probe: HealthProbe
  /** Interval of the probe, in ms; 0: only on request. */
  interval: number
  /** Time limit of one probe, in ms. */
  timeout: number
}

export class Prober {
  readonly #c: ProberComponents
  readonly #init: ProberInit
  #timer: NodeJS.Timeout | undefined
  /** Bumped by each start, so a probe chain of an earlier run never reschedules itself. */
  #generation = 0

  constructor(components: ProberComponents, init: ProberInit) {
    this.#c = components
    this.#init = init
  }

  /** Schedules the periodic probe. */
  start(): void {
    this.#generation++
    this.#schedule()
  }

  /** Stops the periodic probe (a probe in flight finishes on its own). */
  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** Runs the probe now; resolves whether the primary passed it. Rejects only on the caller's abort. */
  async probe(signal?: AbortSignal): Promise<boolean> {
    const { calls, primary } = this.#c
    const run = calls.run(
      'real',
      'probe',
      signal,
      (s) => this.#init.probe(primary, { signal: s }),
      this.#init.timeout
    )
    try {
      await (this.#c.tasks?.track(run) ?? run)
    } catch {
      if (signal?.aborted === true) throw abortError(signal)
      return false
    }
    this.#c.onPassed()
    return true
  }

  #schedule(): void {
    if (this.#init.interval <= 0 || !this.#c.isStarted()) return
    const generation = this.#generation
    this.#timer = setTimeout(() => {
      void this.probe()
        .catch(() => false)
        .then(() => {
          if (generation === this.#generation) this.#schedule()
        })
    }, this.#init.interval)
    this.#timer.unref()
  }
}
