/**
 * At most `limit` direct requests in flight to one peer; more wait their turn (first come, first
 * served) until their signal aborts. libp2p refuses a stream past a protocol's per-connection
 * limit (32 inbound at the peer by default) by resetting it, which a writer saw as a failed push:
 * queueing here instead turns a burst of stores into a wait (back-pressure on the writer), never
 * into a lost acknowledgement.
 */
export class PeerGate {
  readonly #limit: number
  readonly #running = new Map<string, number>()
  readonly #waiting = new Map<string, Array<() => void>>()

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit))
  }

  /** Requests in flight to `peer`. */
  inFlight(peer: string): number {
    return this.#running.get(peer) ?? 0
  }

  /** Runs `fn` once fewer than `limit` requests to `peer` are in flight. */
  async run<T>(peer: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    await this.#enter(peer, signal)
    try {
      return await fn()
    } finally {
      this.#leave(peer)
    }
  }

  #enter(peer: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    const n = this.#running.get(peer) ?? 0
    if (n < this.#limit) {
      this.#running.set(peer, n + 1)
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const queue = this.#waiting.get(peer) ?? []
      this.#waiting.set(peer, queue)
      const onAbort = (): void => {
        const i = queue.indexOf(admit)
        if (i >= 0) queue.splice(i, 1)
        if (queue.length === 0 && this.#waiting.get(peer) === queue) this.#waiting.delete(peer)
        reject(signal.reason)
      }
      // the slot is handed over by #leave (the count stays as it is)
      const admit = (): void => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      queue.push(admit)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  #leave(peer: string): void {
    const queue = this.#waiting.get(peer)
    const next = queue?.shift()
    if (queue !== undefined && queue.length === 0) this.#waiting.delete(peer)
    if (next !== undefined) {
      next()
      return
    }
    const n = (this.#running.get(peer) ?? 1) - 1
    if (n <= 0) this.#running.delete(peer)
    else this.#running.set(peer, n)
  }
}
