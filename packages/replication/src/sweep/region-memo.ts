/**
 * What the sweep remembers per (peer, region): a bounded map whose oldest entry is forgotten first,
 * and whose entries of one peer can be dropped together (it left, and may come back otherwise).
 * `RecentRoots` and `RefusalBackoff` keep their state in one.
 */

/** The memo key of a peer's region (its prefix length and lower bound, hex). */
export const regionKey = (peer: string, bits: number, lo: string): string => `${peer}:${bits}:${lo}`

export class RegionMemo<V> {
  readonly #entries = new Map<string, V>()
  readonly #max: number

  constructor(max: number) {
    this.#max = Math.max(1, max)
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)
  }

  /** Sets `key` as the newest entry, forgetting the oldest past the bound. */
  set(key: string, value: V): void {
    this.#entries.delete(key)
    this.#entries.set(key, value)
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  /** Forgets every region of `peer`. */
  forget(peer: string): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(`${peer}:`)) this.#entries.delete(k)
  }

  clear(): void {
    this.#entries.clear()
  }
}
