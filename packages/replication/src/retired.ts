/**
 * Retired keys: records the application deleted (the versions before a tombstone). A retired key
 * is no longer managed (no reprovide, no repair, no republish: its copies expire on their own) and
 * a peer's push of it is refused as stale (at no cost to the sender, who may not know yet), until
 * the application adds it again. Kept in memory, bounded: after a restart the application retires
 * again what it learns of.
 */

/** Most keys remembered; the oldest retirement is forgotten first. */
export const MAX_RETIRED_KEYS = 100_000

export class RetiredKeys {
  readonly #keys = new Set<string>()
  readonly #max: number

  constructor(max = MAX_RETIRED_KEYS) {
    this.#max = max
  }

  add(key: string): void {
    this.#keys.delete(key)
    if (this.#keys.size >= this.#max) {
      const oldest = this.#keys.values().next().value
      if (oldest !== undefined) this.#keys.delete(oldest)
    }
    this.#keys.add(key)
  }

  delete(key: string): void {
    this.#keys.delete(key)
  }

  has(key: string): boolean {
    return this.#keys.has(key)
  }

  get size(): number {
    return this.#keys.size
  }
}
