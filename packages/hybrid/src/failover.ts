/**
 * Fail-over state: the health of both backends, the backend mode, and from them the backend
 * operations go to. Entering `failed` in `auto` mode is a fail-over, leaving it a fail-back;
 * `switchBackend` pins a backend or gives the choice back to health. No I/O, no timers: every
 * outcome is booked here by whoever ran the operation.
 */
import { errorText, type Logger } from '@chorus/common'
import { checkMode } from './config.js'
import { HealthTracker } from './health.js'
import type { BackendHealth, BackendMode, BackendName, OperationName } from './types.js'

export interface FailoverComponents {
  logger: Logger
  /** Called when the primary leaves `failed` (in any mode): journaled writes may go out again. */
  onPrimaryRecovered?(): void
}

export interface FailoverInit {
  /** Consecutive failures that make a backend `failed`. */
  failureThreshold: number
  /** Consecutive successes that take a `failed` backend back to `healthy`. */
  recoveryThreshold: number
  /** Mode at start. */
  mode: BackendMode
  /** The clock of `lastCheck`, `lastFailoverAt` and `lastFailbackAt`. Default: `new Date()`. */
  now?: () => Date
}

/** Fail-over counters, part of `HybridMetrics`. */
export interface FailoverCounters {
  failovers: number
  failbacks: number
  lastFailoverAt: Date | null
  lastFailbackAt: Date | null
}

export class FailoverState {
  readonly #log: Logger
  readonly #onPrimaryRecovered: () => void
  readonly #now: () => Date
  readonly #failureThreshold: number
  readonly #health: Record<BackendName, HealthTracker>
  #mode: BackendMode
  #failovers = 0
  #failbacks = 0
  #lastFailoverAt: Date | null = null
  #lastFailbackAt: Date | null = null

  constructor(components: FailoverComponents, init: FailoverInit) {
    this.#log = components.logger
    this.#onPrimaryRecovered = components.onPrimaryRecovered ?? (() => {})
    this.#now = init.now ?? (() => new Date())
    this.#failureThreshold = init.failureThreshold
    this.#mode = checkMode(init.mode)
    this.#health = {
      real: new HealthTracker('real', init.failureThreshold, init.recoveryThreshold, this.#now),
      mock: new HealthTracker('mock', init.failureThreshold, init.recoveryThreshold, this.#now)
    }
  }

  get mode(): BackendMode {
    return this.#mode
  }

  /** The backend operations go to now. */
  activeBackend(): BackendName {
    if (this.#mode !== 'auto') return this.#mode
    return this.#health.real.failed ? 'mock' : 'real'
  }

  /** Whether operations go to the primary now. */
  primaryActive(): boolean {
    return this.activeBackend() === 'real'
  }

  /** Whether journaled writes may go to the primary now (pinned to it, or `auto` and not failed). */
  primaryUsable(): boolean {
    return this.#mode === 'real' || (this.#mode === 'auto' && !this.#health.real.failed)
  }

  /**
   * Sets the mode (`HybridConfigError` for anything but `auto`, `mock`, `real`). Returns whether it
   * changed.
   */
  switchBackend(mode: BackendMode): boolean {
    const next = checkMode(mode)
    if (next === this.#mode) return false
    const before = this.activeBackend()
    this.#mode = next
    this.#log.info({ mode: next, from: before, to: this.activeBackend() }, 'backend mode switched')
    return true
  }

  /** Books the outcome of one operation or probe: `err` undefined is a success. */
  book(backend: BackendName, op: OperationName, ms: number, err: unknown): void {
    const health = this.#health[backend]
    if (err === undefined) {
      if (health.success(ms) === 'recovered') this.#recovered(backend)
      return
    }
    this.#log.debug({ backend, op, err: errorText(err) }, 'backend operation failed')
    if (health.failure(ms) === 'failed') this.#failed(backend, err)
  }

  health(): Record<BackendName, BackendHealth> {
    return { real: this.#health.real.snapshot(), mock: this.#health.mock.snapshot() }
  }

  counters(): FailoverCounters {
    return {
      failovers: this.#failovers,
      failbacks: this.#failbacks,
      lastFailoverAt: this.#lastFailoverAt,
      lastFailbackAt: this.#lastFailbackAt
    }
  }

  #failed(backend: BackendName, err: unknown): void {
    if (backend === 'real' && this.#mode === 'auto') {
      this.#failovers++
      this.#lastFailoverAt = this.#now()
      this.#log.warn(
        { threshold: this.#failureThreshold, err: errorText(err) },
        'network backend failed: failing over to the local backend'
      )
    } else {
      this.#log.warn({ backend, mode: this.#mode, err: errorText(err) }, 'backend marked failed')
    }
  }

  #recovered(backend: BackendName): void {
    if (backend === 'real' && this.#mode === 'auto') {
      this.#failbacks++
      this.#lastFailbackAt = this.#now()
      this.#log.info('network backend healthy again: failing back')
    } else {
      this.#log.info({ backend }, 'backend healthy again')
    }
    if (backend === 'real') this.#onPrimaryRecovered()
  }
}
