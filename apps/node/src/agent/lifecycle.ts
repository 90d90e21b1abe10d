/**
 * The agent's lifecycle state: started, shutting down, the lifetime signal every background task
 * listens to, the writes in flight, the background tasks and the timers. `stop()` runs once: it
 * refuses new work, lets the writes in flight get their answer, aborts the lifetime, gives the
 * background tasks a moment, then runs the component stop steps it is given, in their order.
 */
import { BackgroundTasks, errorText, type Logger, pause } from '@chorus/common'
import { AGENT_ERROR_CODES, AgentError } from '../errors.js'

/** One named step of a shutdown. */
export interface StopStep {
  name: string
  run(): Promise<unknown>
}

export interface AgentLifecycleInit {
  logger: Logger
  /** How long stop() waits for background tasks after aborting them, in ms. @default 3_000 */
  backgroundGrace?: number
}

export class AgentLifecycle {
  #started = false
  #stopping = false
  #startedAt = 0
  #stopped: Promise<void> | undefined
  readonly #lifetime = new AbortController()
  readonly #writes = new BackgroundTasks()
  readonly #background = new BackgroundTasks()
  readonly #timers = new Set<ReturnType<typeof setInterval>>()
  readonly #log: Logger
  readonly #grace: number

  constructor(init: AgentLifecycleInit) {
    this.#log = init.logger
    this.#grace = init.backgroundGrace ?? 3_000
  }

  get started(): boolean {
    return this.#started
  }
  get stopping(): boolean {
    return this.#stopping
  }
  /** Epoch ms of the end of start-up; 0 before. */
  get startedAt(): number {
    return this.#startedAt
  }
  /** Aborts when shutdown begins, after the writes in flight got their answer. */
  get signal(): AbortSignal {
    return this.#lifetime.signal
  }

  /** Started and not shutting down. */
  isReady(): boolean {
    return this.#started && !this.#stopping
  }

  /** Throws `AgentError` (AGENT_SHUTTING_DOWN, else AGENT_NOT_READY) unless the agent serves. */
  assertServing(): void {
    if (this.#stopping) {
      throw new AgentError('the agent is shutting down', { code: AGENT_ERROR_CODES.SHUTTING_DOWN })
    }
    if (!this.#started)
      throw new AgentError('the agent is not ready yet', { code: AGENT_ERROR_CODES.NOT_READY })
  }

  markStarted(): void {
    this.#started = true
    this.#startedAt = Date.now()
  }

  /** Runs `work` as a write that shutdown lets finish before it aborts anything. */
  write<T>(work: Promise<T>): Promise<T> {
    return this.#writes.track(work)
  }

  /** Tracks background work; its failure is logged, never thrown. */
  spawn(work: Promise<unknown>): void {
    this.#background.track(
      work.catch((err) => this.#log.warn({ err: errorText(err) }, 'background task failed'))
    )
  }

  /** Runs `fn` every `ms` (unref'd) until shutdown begins. */
  every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      if (!this.#stopping) this.spawn(fn())
    }, ms)
    t.unref()
    this.#timers.add(t)
  }

  /** Shut down once (later calls get the same promise); `steps` stop the components, in order. */
  stop(steps: () => StopStep[]): Promise<void> {
    this.#stopped ??= this.#stop(steps)
    return this.#stopped
  }

  async #stop(steps: () => StopStep[]): Promise<void> {
    this.#stopping = true
    for (const t of this.#timers) clearInterval(t)
    this.#timers.clear()
    // finish in-flight writes (acknowledged ones are already durable; these get their answer)
    await this.#step({ name: 'in-flight writes', run: () => this.#writes.drain() })
    this.#lifetime.abort()
    // background tasks got the abort; give them a moment to unwind, never the whole shutdown budget
    await this.#step({
      name: 'background tasks',
      run: async () => {
        const grace = new AbortController()
        await Promise.race([this.#background.drain(), pause(this.#grace, { signal: grace.signal })])
        grace.abort()
      }
    })
    for (const step of steps()) await this.#step(step)
    this.#started = false
  }

  async #step(step: StopStep): Promise<void> {
    const t = Date.now()
    try {
      await step.run()
      this.#log.debug({ step: step.name, ms: Date.now() - t }, 'shutdown step done')
    } catch (err) {
      this.#log.error({ step: step.name, err: errorText(err) }, 'shutdown step failed')
    }
  }
}
