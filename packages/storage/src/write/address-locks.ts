/**
 * One writer at a time per address: stores of the same address run one after the other (each
 * reads the head the previous one wrote); stores of different addresses run concurrently. A
 * failed run does not block the next.
 */
export class AddressLocks {
  readonly #tails = new Map<string, Promise<unknown>>()

  /** Addresses with a run in flight or queued. */
  get size(): number {
    return this.#tails.size
  }

  async run<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(address) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    this.#tails.set(address, tail)
    try {
      return await run
    } finally {
      if (this.#tails.get(address) === tail) this.#tails.delete(address)
    }
  }
}
