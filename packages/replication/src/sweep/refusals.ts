/**
 * Regions where a peer refused records the sweep sent it (its quota was full, its disk, it was
 * stopping): the same records would be refused again on the next pass, and re-sending them every
 * pass is what made a pass carry hundreds of megabytes. Such a (peer, region) is sent no records
 * for a while: one pass after the first refusal, doubling with each refusal in a row, at most
 * `MAX_STRIKES` doublings. A sync that sends records and has none refused forgets it. Bounded:
 * the oldest is forgotten first.
 */
import type { RefusalCode } from '../errors.js'
import { RegionMemo } from './region-memo.js'

/** (peer, region) back-offs remembered at most. */
const MAX_ENTRIES = 4096
/** The back-off doubles at most this many times (2^4 = 16 passes). */
const MAX_STRIKES = 4

/**
 * Whether a refusal says the peer will not take records now. `STALE` does not: the peer holds a
 * newer version (a write raced the sweep), which is the outcome the sweep wanted.
 */
export const backsOff = (code: RefusalCode): boolean => code !== 'STALE'

export class RefusalBackoff {
  readonly #entries: RegionMemo<{ strikes: number; until: number }>

  constructor(max = MAX_ENTRIES) {
    this.#entries = new RegionMemo(max)
  }

  /** Whether records for `key` (a `regionKey`) are held back at `now`. */
  holding(key: string, now: number = Date.now()): boolean {
    const e = this.#entries.get(key)
    return e !== undefined && now < e.until
  }

  /** The peer refused records of `key`: hold back for `pass` ms, doubled per refusal in a row. */
  refused(key: string, pass: number, now: number = Date.now()): void {
    const strikes = Math.min((this.#entries.get(key)?.strikes ?? -1) + 1, MAX_STRIKES)
    this.#entries.set(key, { strikes, until: now + pass * 2 ** strikes })
  }

  /** The peer took every record sent for `key`. */
  accepted(key: string): void {
    this.#entries.delete(key)
  }

  /** Forgets every region of `peer` (it left, and may come back with room). */
  forget(peer: string): void {
    this.#entries.forget(peer)
  }

  clear(): void {
    this.#entries.clear()
  }
}
