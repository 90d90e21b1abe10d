/**
 * Roots a sweep agreed on lately, per (peer, region): what lets an unchanged region skip work it
 * did a moment ago. Bounded: the oldest is forgotten first.
 */
import { RegionMemo } from './region-memo.js'

/** Agreed roots remembered at most. */
const MAX_ROOTS = 4096

export class RecentRoots {
  readonly #roots: RegionMemo<{ root: string; at: number }>

  constructor(max = MAX_ROOTS) {
    this.#roots = new RegionMemo(max)
  }

  /** Whether `root` was agreed for `key` within the last `maxAgeMs`. */
  within(key: string, root: string, maxAgeMs: number, now: number = Date.now()): boolean {
    const seen = this.#roots.get(key)
    return seen !== undefined && seen.root === root && now - seen.at < maxAgeMs
  }

  remember(key: string, root: string, now: number = Date.now()): void {
    this.#roots.set(key, { root, at: now })
  }

  /** Forgets every region of `peer` (it left, and may come back with less). */
  forget(peer: string): void {
    this.#roots.forget(peer)
  }

  clear(): void {
    this.#roots.clear()
  }
}
