/**
 * Stores bound for one peer travel together. A writer with many stores in flight would otherwise
 * open a stream per store and peer (a protocol negotiation, a request and an answer each, and on
 * the peer a handler, a rate-limit check and a peer-store update each): profiled under 16 stores
 * in flight, that per-stream work was about a quarter of every agent's CPU. Here each peer has at
 * most `maxInFlight` batch requests in flight; stores that arrive meanwhile wait and leave
 * together, as one request, when one of them answers. A lone store leaves at once: batching adds
 * no wait, it only fills the requests that load makes wait anyway.
 */
import { type BatchItem, MAX_BATCH_ITEMS, MAX_REQUEST_BYTES, type PutResponse } from './protocol.js'

/** Sends one batch to one peer: one answer per item, in order. */
export type SendBatch = (peer: string, items: BatchItem[], signal: AbortSignal) => Promise<PutResponse[]>

/** Batch requests in flight to one peer at most, by default. */
export const DEFAULT_BATCHES_IN_FLIGHT = 2
/** What an item costs in a request besides its value and keys (CBOR framing). */
const ITEM_OVERHEAD = 16
/** What a request may hold of items: its bound less room for its own framing. */
const MAX_BATCH_BYTES = MAX_REQUEST_BYTES - 4096

interface Pending {
  item: BatchItem
  bytes: number
  signal: AbortSignal
  settle(result: { answer: PutResponse } | { error: unknown }): void
}

interface PeerQueue {
  waiting: Pending[]
  inFlight: number
}

const bytesOf = (item: BatchItem): number =>
  item.value.byteLength + item.keys.reduce((n, k) => n + k.length, 0) + ITEM_OVERHEAD

export class PushBatcher {
  readonly #send: SendBatch
  readonly #maxInFlight: number
  readonly #peers = new Map<string, PeerQueue>()

  constructor(send: SendBatch, maxInFlight = DEFAULT_BATCHES_IN_FLIGHT) {
    this.#send = send
    this.#maxInFlight = Math.max(1, Math.floor(maxInFlight))
  }

  /** Stores waiting for a batch to `peer` (not counting those in flight). */
  waiting(peer: string): number {
    return this.#peers.get(peer)?.waiting.length ?? 0
  }

  /**
   * Hands `item` to `peer` in the next batch: resolves with the peer's answer for it, rejects
   * with the request's error, or with `signal`'s reason once it aborts (a store given up on is
   * taken out of its batch if it has not left yet).
   */
  push(peer: string, item: BatchItem, signal: AbortSignal): Promise<PutResponse> {
    signal.throwIfAborted()
    return new Promise((resolve, reject) => {
      let queue = this.#peers.get(peer)
      if (queue === undefined) {
        queue = { waiting: [], inFlight: 0 }
        this.#peers.set(peer, queue)
      }
      const q = queue
      let done = false
      const pending: Pending = {
        item,
        bytes: bytesOf(item),
        signal,
        settle: (result) => {
          if (done) return
          done = true
          signal.removeEventListener('abort', onAbort)
          if ('answer' in result) resolve(result.answer)
          else reject(result.error)
        }
      }
      const onAbort = (): void => {
        const i = q.waiting.indexOf(pending)
        if (i >= 0) q.waiting.splice(i, 1)
        pending.settle({ error: signal.reason })
        this.#forget(peer, q)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      q.waiting.push(pending)
      this.#drain(peer, q)
    })
  }

  #drain(peer: string, q: PeerQueue): void {
    while (q.inFlight < this.#maxInFlight && q.waiting.length > 0) {
      const batch = this.#take(q)
      q.inFlight++
      // the request stops only when no store of it is waiting for the answer any more
      const stop = new AbortController()
      let live = batch.length
      const left = (): void => {
        if (--live === 0) stop.abort(new Error('every store of the batch was given up on'))
      }
      for (const p of batch) p.signal.addEventListener('abort', left, { once: true })
      this.#send(
        peer,
        batch.map((p) => p.item),
        stop.signal
      )
        .then(
          (answers) => {
            for (const [i, p] of batch.entries()) p.settle({ answer: answers[i]! })
          },
          (error: unknown) => {
            for (const p of batch) p.settle({ error })
          }
        )
        .finally(() => {
          for (const p of batch) p.signal.removeEventListener('abort', left)
          q.inFlight--
          this.#drain(peer, q)
          this.#forget(peer, q)
        })
    }
  }

  /** The next batch: the waiting stores in order, up to the item and byte bounds (one at least). */
  #take(q: PeerQueue): Pending[] {
    let bytes = 0
    let n = 0
    while (n < q.waiting.length && n < MAX_BATCH_ITEMS) {
      const next = q.waiting[n]!
      if (n > 0 && bytes + next.bytes > MAX_BATCH_BYTES) break
      bytes += next.bytes
      n++
    }
    return q.waiting.splice(0, n)
  }

  #forget(peer: string, q: PeerQueue): void {
    if (q.inFlight === 0 && q.waiting.length === 0 && this.#peers.get(peer) === q) this.#peers.delete(peer)
  }
}
