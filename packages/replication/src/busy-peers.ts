/**
 * Peers that answered `BUSY` (over their rate for this node's pushes): pushes to one wait until its
 * back-off passed, so a fast writer is slowed down to what the peer takes instead of being refused,
 * charged and banned. Bounded: the least recently noted peers are forgotten first.
 */
import { pause } from '@chorus/common'

/** How long a peer that answered `BUSY` is left alone, in ms. */
export const BUSY_BACKOFF_MS = 500
/** How many times one push is sent again after `BUSY` before it fails. */
export const BUSY_RETRIES = 4
const MAX_PEERS = 1024

export class BusyPeers {
  private readonly until = new Map<string, number>()

  /** The peer answered `BUSY` now. */
  note(peer: string, now = Date.now()): void {
    this.until.delete(peer)
    this.until.set(peer, now + BUSY_BACKOFF_MS)
    while (this.until.size > MAX_PEERS) {
      const oldest = this.until.keys().next().value
      if (oldest === undefined) break
      this.until.delete(oldest)
    }
  }

  /** Waits out the peer's back-off, if any (returns early when `signal` aborts). */
  async wait(peer: string, signal?: AbortSignal): Promise<void> {
    const at = this.until.get(peer)
    if (at === undefined) return
    const left = at - Date.now()
    if (left <= 0) {
      this.until.delete(peer)
      return
    }
    await pause(left, signal !== undefined ? { signal } : {})
    signal?.throwIfAborted()
  }
}
