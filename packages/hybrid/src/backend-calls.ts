/**
 * Runs one operation on a backend under the operation time limit and the hybrid's lifetime, and
 * books its outcome: in the backend's metrics here, in its health through `health.book`. A
 * caller's abort and the hybrid's own shutdown are booked as neither; a not-found or an
 * invalid-record answer is a healthy answer.
 */
import { abortError, withTimeout } from '@chorus/common'
import { DHTTimeoutError } from '@chorus/dht'
import { isAnswer } from './classify.js'
import { BackendStats } from './metrics.js'
import type { BackendMetrics, BackendName, OperationName } from './types.js'

export interface BackendCallsComponents {
  /** The hybrid's current run: aborts on `stop()`. */
  lifetime(): AbortSignal
  /** Where health outcomes go (`err` undefined: a success). */
  health: { book(backend: BackendName, op: OperationName, ms: number, err: unknown): void }
}

export interface BackendCallsInit {
  /** Time limit of one call, in ms. */
  operationTimeout: number
  /** Calls per backend kept for latency percentiles. */
  latencyWindow: number
}

/** Runs `fn` on one backend; what the hybrid's components call the backends through. */
export interface BackendCaller {
  run<T>(
    backend: BackendName,
    op: OperationName,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeout?: number
  ): Promise<T>
}

export class BackendCalls implements BackendCaller {
  readonly #components: BackendCallsComponents
  readonly #timeout: number
  readonly #stats: Record<BackendName, BackendStats>

  constructor(components: BackendCallsComponents, init: BackendCallsInit) {
    this.#components = components
    this.#timeout = init.operationTimeout
    this.#stats = { real: new BackendStats(init.latencyWindow), mock: new BackendStats(init.latencyWindow) }
  }

  async run<T>(
    backend: BackendName,
    op: OperationName,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeout = this.#timeout
  ): Promise<T> {
    const lifetime = this.#components.lifetime()
    const t0 = performance.now()
    try {
      const result = await this.bounded(`${backend} ${op}`, signal, fn, timeout)
      this.#book(backend, op, performance.now() - t0, undefined)
      return result
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      if (lifetime.aborted) throw lifetime.reason
      this.#book(backend, op, performance.now() - t0, isAnswer(err) ? undefined : err)
      throw err
    }
  }

  /**
   * `fn` under the time limit (`DHTTimeoutError`), the caller's signal and the lifetime, booked
   * nowhere: for reads that are not a backend operation of their own (the primary's record store).
   */
  bounded<T>(
    label: string,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeout = this.#timeout
  ): Promise<T> {
    return withTimeout(
      timeout,
      () => new DHTTimeoutError(label, timeout),
      [signal, this.#components.lifetime()],
      fn
    )
  }

  metrics(): Record<BackendName, BackendMetrics> {
    return { real: this.#stats.real.snapshot(), mock: this.#stats.mock.snapshot() }
  }

  #book(backend: BackendName, op: OperationName, ms: number, err: unknown): void {
    this.#stats[backend].record(op, ms, err === undefined)
    this.#components.health.book(backend, op, ms, err)
  }
}
