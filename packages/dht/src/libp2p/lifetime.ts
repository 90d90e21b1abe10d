import { errorText, type Logger } from '@chorus/common'
import { dhtNotStarted } from '../errors.js'

/** What a component needs to know of the node's run: whether it is started, and its signal. */
export interface RunState {
  /** Aborts when the node stops (with a `NotStartedError`). */
  readonly signal: AbortSignal
  readonly started: boolean
  /** Throws `NotStartedError` (code `DHT_NOT_STARTED`) unless the node is started. */
  assertStarted(what: string): void
}

/** What a component needs to run work in the background of the node's run. */
export interface Scheduler {
  /** Runs `task` every `interval` ms until stop; 0 disables it. Timers never keep the process alive. */
  every(interval: number, name: string, task: (signal: AbortSignal) => Promise<void>): void
  /** Runs `task` now without waiting for it; its failure is logged (unless the node stopped). */
  background(name: string, task: (signal: AbortSignal) => Promise<void>): void
}

/**
 * One run of a node, from `begin()` to `end()`: its started flag, the signal that aborts every
 * query and background task when it stops, and its timers.
 */
export class Lifetime implements RunState, Scheduler {
  readonly #name: string
  readonly #log: Logger
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  #controller = new AbortController()
  #started = false
  #startedAt = 0

  constructor(name: string, log: Logger) {
    this.#name = name
    this.#log = log
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  get started(): boolean {
    return this.#started
  }

  /** Milliseconds since `begin()`; 0 when stopped. */
  get uptime(): number {
    return this.#started ? Date.now() - this.#startedAt : 0
  }

  /** Starts a run: a fresh signal, started. */
  begin(): void {
    this.#controller = new AbortController()
    this.#started = true
    this.#startedAt = Date.now()
  }

  /** Ends the run: not started, timers cleared, the signal aborted. */
  end(): void {
    this.#started = false
    this.#startedAt = 0
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    this.#controller.abort(dhtNotStarted(this.#name))
  }

  assertStarted(what: string): void {
    if (!this.#started) throw dhtNotStarted(`${this.#name} (${what})`)
  }

  every(interval: number, name: string, task: (signal: AbortSignal) => Promise<void>): void {
    if (!(interval > 0)) return
    const { signal } = this.#controller
    const tick = (): void => {
      const t = setTimeout(() => {
        this.#timers.delete(t)
        if (!this.#started || signal.aborted) return
        task(signal)
          .catch((err: unknown) => {
            if (!signal.aborted) this.#log.warn({ task: name, err: errorText(err) }, 'background task failed')
          })
          .finally(() => {
            if (this.#started && !signal.aborted) tick()
          })
      }, interval)
      t.unref?.()
      this.#timers.add(t)
    }
    tick()
  }

  background(name: string, task: (signal: AbortSignal) => Promise<void>): void {
    const { signal } = this.#controller
    task(signal).catch((err: unknown) => {
      if (!signal.aborted) this.#log.warn({ task: name, err: errorText(err) }, 'background task failed')
    })
  }
}
