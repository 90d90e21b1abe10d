import type { DHT } from '@chorus/dht'
import { headKey, type ResolvedAddress } from '../address.js'
import type { Candidate } from './candidates.js'

export interface ReadRepairComponents {
  /** Where the newest head is put back. */
  dht: Pick<DHT, 'putValue'>
  /** Runs the put in the background. */
  background: { run(what: string, fn: (signal: AbortSignal) => Promise<unknown>): void }
}

export interface ReadRepairInit {
  /** Repair at all (`init.readRepair`). */
  enabled: boolean
  /** Least time between two repairs of one address, in ms. */
  interval: number
  /** Addresses remembered at most; past it the memory starts over. */
  maxTracked?: number
  /** The clock (tests). */
  now?: () => number
}

/**
 * Read repair: some peers hold an older head (missed an update, or were fed a replayed old
 * record, which kad-dht servers accept): put the newest back, in the background; one repair
 * per address at a time and at most one every `interval`.
 */
export class ReadRepair {
  readonly #c: ReadRepairComponents
  readonly #init: ReadRepairInit
  readonly #last = new Map<string, number>()

  constructor(components: ReadRepairComponents, init: ReadRepairInit) {
    this.#c = components
    this.#init = init
  }

  /** Whether a repair of `base` may start now; when it may, it counts as in flight from here. */
  claim(base: string): boolean {
    if (!this.#init.enabled) return false
    const now = (this.#init.now ?? Date.now)()
    const last = this.#last.get(base)
    if (last !== undefined && last > now - this.#init.interval) return false
    if (this.#last.size > (this.#init.maxTracked ?? 10_000)) this.#last.clear()
    this.#last.set(base, Number.POSITIVE_INFINITY) // in flight
    return true
  }

  /** The repair of `base` ended (either way): the interval runs from now. */
  release(base: string): void {
    this.#last.set(base, (this.#init.now ?? Date.now)())
  }

  /** Puts `c` back as the head of `r` in the background, when {@link claim} allows. */
  repair(r: ResolvedAddress, c: Candidate): void {
    if (!this.claim(r.base)) return
    this.#c.background.run('read repair', async (signal) => {
      try {
        await this.#c.dht.putValue(headKey(r.digest), c.bytes, { signal })
      } finally {
        this.release(r.base)
      }
    })
  }
}
