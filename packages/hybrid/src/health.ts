import type { BackendHealth, BackendName, HealthStatus } from './types.js'

/**
 * Health of one backend from the outcomes of its operations and probes: `failed` after
 * `failureThreshold` consecutive failures, and back to `healthy` only after `recoveryThreshold`
 * consecutive successes (so one lucky answer does not flap the node back onto a broken network).
 */
export class HealthTracker {
  readonly backend: BackendName
  readonly #failureThreshold: number
  readonly #recoveryThreshold: number
  #failed = false
  #consecutiveFailures = 0
  #consecutiveSuccesses = 0
  #errorCount = 0
  #latency = 0
  #lastCheck: Date | null = null
  readonly #now: () => Date

  constructor(
    backend: BackendName,
    failureThreshold: number,
    recoveryThreshold: number,
    now: () => Date = () => new Date()
  ) {
    this.backend = backend
    this.#failureThreshold = failureThreshold
    this.#recoveryThreshold = recoveryThreshold
    this.#now = now
  }

  get failed(): boolean {
    return this.#failed
  }

  get status(): HealthStatus {
    if (this.#failed) return 'failed'
    return this.#consecutiveFailures > 0 ? 'degraded' : 'healthy'
  }

  /** Returns `'recovered'` when this success takes the backend out of `failed`. */
  success(ms: number): 'recovered' | undefined {
    this.#lastCheck = this.#now()
    this.#latency = ms
    this.#consecutiveFailures = 0
    this.#consecutiveSuccesses++
    if (this.#failed && this.#consecutiveSuccesses >= this.#recoveryThreshold) {
      this.#failed = false
      return 'recovered'
    }
    return undefined
  }

  /** Returns `'failed'` when this failure puts the backend into `failed`. */
  failure(ms: number): 'failed' | undefined {
    this.#lastCheck = this.#now()
    this.#latency = ms
    this.#errorCount++
    this.#consecutiveSuccesses = 0
    this.#consecutiveFailures++
    if (!this.#failed && this.#consecutiveFailures >= this.#failureThreshold) {
      this.#failed = true
      return 'failed'
    }
    return undefined
  }

  snapshot(): BackendHealth {
    return {
      backend: this.backend,
      status: this.status,
      lastCheck: this.#lastCheck === null ? null : new Date(this.#lastCheck),
      errorCount: this.#errorCount,
      latency: Math.round(this.#latency * 100) / 100,
      consecutive: this.#consecutiveFailures
    }
  }
}
