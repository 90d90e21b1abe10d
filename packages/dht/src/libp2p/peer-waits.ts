/**
 * Waits for a verdict on a peer: callers wait until someone settles the peer (`true`: admitted) or
 * their time limit passes (`false`). Memory is bounded by the waits in flight, each time-limited.
 */
export class PeerWaits {
  readonly #waiters = new Map<string, Set<(ok: boolean) => void>>()

  /**
   * Resolves with the verdict on `peer`, or false after `timeout` ms; rejects with the signal's
   * reason when it aborts.
   */
  wait(peer: string, timeout: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      signal?.throwIfAborted()
      const waiters = this.#waiters.get(peer) ?? new Set()
      this.#waiters.set(peer, waiters)
      let timer: ReturnType<typeof setTimeout> | undefined
      const end = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        waiters.delete(done)
        if (waiters.size === 0 && this.#waiters.get(peer) === waiters) this.#waiters.delete(peer)
      }
      const done = (ok: boolean): void => {
        end()
        resolve(ok)
      }
      const onAbort = (): void => {
        end()
        reject(signal?.reason)
      }
      timer = setTimeout(() => done(false), timeout)
      timer.unref?.()
      signal?.addEventListener('abort', onAbort, { once: true })
      waiters.add(done)
    })
  }

  /** Ends every wait for `peer` with the verdict. */
  settle(peer: string, ok: boolean): void {
    const waiters = this.#waiters.get(peer)
    if (waiters == null) return
    for (const done of [...waiters]) done(ok)
  }

  /** Ends every wait (at stop). */
  settleAll(ok: boolean): void {
    for (const peer of [...this.#waiters.keys()]) this.settle(peer, ok)
  }
}
