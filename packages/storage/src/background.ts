import { anySignal, BackgroundTasks, type Logger, waitAtMost } from '@chorus/common'
import { StorageTimeoutError } from './errors.js'

export interface BackgroundComponents {
  logger?: Logger
  /** Counts the times a store waited for room (`backpressureWaits`). */
  metrics: { backpressureWaits: number }
}

export interface BackgroundInit {
  /** Time one background operation may take, in ms. */
  backgroundTimeout: number
  /** Background operations in flight at most before `room()` waits. */
  maxBackgroundTasks: number
  /** Longest wait for room, in ms (the store's own limit). */
  storeTimeout: number
}

/**
 * The work that outlives the call that started it (the kad puts after a store met its quorum,
 * direct pushes, provides, read repairs, refreshes): tracked so `stop()` aborts it and waits for
 * it, bounded by `maxBackgroundTasks` through {@link room} (backpressure on stores).
 */
export class Background {
  readonly #tasks = new BackgroundTasks()
  readonly #components: BackgroundComponents
  readonly #init: BackgroundInit
  #shutdown = new AbortController()

  constructor(components: BackgroundComponents, init: BackgroundInit) {
    this.#components = components
    this.#init = init
  }

  /** Aborts at `stop()`. */
  get signal(): AbortSignal {
    return this.#shutdown.signal
  }

  /** Tasks in flight. */
  get size(): number {
    return this.#tasks.size
  }

  start(): void {
    if (this.#shutdown.signal.aborted) this.#shutdown = new AbortController()
  }

  /** Aborts the work in flight and waits until it has settled. */
  async stop(): Promise<void> {
    this.#shutdown.abort(new DOMException('encrypted storage is stopping', 'AbortError'))
    await this.#tasks.drain()
  }

  /** Resolves when every task in flight (and every task those start) has settled. */
  drain(): Promise<void> {
    return this.#tasks.drain()
  }

  /** A signal for one background operation: shutdown or `backgroundTimeout`. */
  taskSignal(): AbortSignal {
    return anySignal(this.#shutdown.signal, AbortSignal.timeout(this.#init.backgroundTimeout))
  }

  /** Tracks `task` (its failure is observed, never re-thrown here); returns it. */
  track<T>(task: Promise<T>): Promise<T> {
    return this.#tasks.track(task)
  }

  /** Runs `fn` in the background with {@link taskSignal}; a failure is logged unless shutting down. */
  run(what: string, fn: (signal: AbortSignal) => Promise<unknown>): void {
    const p = fn(this.taskSignal()).catch((err: unknown) => {
      if (!this.#shutdown.signal.aborted)
        this.#components.logger?.debug({ err: (err as Error).message }, `${what} failed`)
    })
    this.track(p)
  }

  /** Waits while `maxBackgroundTasks` operations are in flight (at most `storeTimeout` per wait). */
  async room(signal: AbortSignal): Promise<void> {
    while (this.#tasks.size >= this.#init.maxBackgroundTasks) {
      signal.throwIfAborted()
      this.#components.metrics.backpressureWaits++
      const { storeTimeout } = this.#init
      await waitAtMost(
        this.#tasks.any(),
        storeTimeout,
        () => new StorageTimeoutError('store', storeTimeout),
        signal
      )
    }
  }
}
