import type { Logger } from '@chorus/common'

/** The periodic removal of expired cache entries. */
export class CacheCleanup {
  readonly #cache: { cleanup(): number }
  readonly #logger?: Logger
  readonly #interval: number
  #timer?: NodeJS.Timeout

  constructor(
    components: { cache: { cleanup(): number }; logger?: Logger },
    init: { cacheCleanupInterval: number }
  ) {
    this.#cache = components.cache
    this.#logger = components.logger
    this.#interval = init.cacheCleanupInterval
  }

  /** Schedules the cleanup every `cacheCleanupInterval` (none when it is 0). */
  start(): void {
    if (this.#interval > 0) this.schedule(this.#interval)
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** (Re)schedules the cleanup every `intervalMs`. */
  schedule(intervalMs: number): void {
    this.stop()
    this.#timer = setInterval(() => {
      const n = this.#cache.cleanup()
      if (n > 0) this.#logger?.debug({ expired: n }, 'cleaned up expired cache entries')
    }, intervalMs)
    this.#timer.unref()
  }
}
