/**
 * Values by the SHA-256 of the bytes they were computed from, least recently used first out: what
 * a verification concluded about bytes it will see again (a certificate on every envelope, the
 * team's manifest on every read of it).
 */
import { createHash } from 'node:crypto'

export class DigestLru<T> {
  readonly #entries = new Map<string, T>()
  readonly #capacity: number

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  static keyOf(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('base64')
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): T | undefined {
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      // Most recently used last.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
    }
    return hit
  }

  set(key: string, value: T): void {
    if (this.#capacity <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, value)
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
  }

  clear(): void {
    this.#entries.clear()
  }
}
