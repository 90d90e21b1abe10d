/**
 * Roots a sweep agreed on lately, per (peer, region): what lets an unchanged region skip work it
 * did a moment ago. Bounded: the oldest is forgotten first.
 */

/** Agreed roots remembered at most. */
const MAX_ROOTS = 4096

/** The memo key of a peer's region (its prefix length and lower bound, hex). */
export const regionKey = (peer: string, bits: number, lo: string): string => `${peer}:${bits}:${lo}`

export class RecentRoots {
  readonly #roots = new Map<string, { root: string; at: number }>()
  readonly #max: number

  constructor(max = MAX_ROOTS) {
    this.#max = Math.max(1, max)
  }

  /** Whether `root` was agreed for `key` within the last `maxAgeMs`. */
  within(key: string, root: string, maxAgeMs: number, now: number = Date.now()): boolean {
    const seen = this.#roots.get(key)
    return seen !== undefined && seen.root === root && now - seen.at < maxAgeMs
  }

  remember(key: string, root: string, now: number = Date.now()): void {
    this.#roots.delete(key)
    this.#roots.set(key, { root, at: now })
    while (this.#roots.size > this.#max) {
      const oldest = this.#roots.keys().next().value
      if (oldest === undefined) break
      this.#roots.delete(oldest)
    }
  }

  /** Forgets every region of `peer` (it left, and may come back with less). */
  forget(peer: string): void {
    for (const k of [...this.#roots.keys()]) if (k.startsWith(`${peer}:`)) this.#roots.delete(k)
  }

  clear(): void {
    this.#roots.clear()
  }
}
