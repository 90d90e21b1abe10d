/**
 * Verified certificates by the SHA-256 of their bytes, least recently used first out. Only
 * certificates that verified under the current manifest are kept; the policy clears the cache
 * when the manifest changes and re-checks the validity window on every hit.
 */
import { createHash } from 'node:crypto'
import type { MemberCertificate } from './certificate.js'

export class CertificateCache {
  readonly #entries = new Map<string, MemberCertificate>()
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

  get(key: string): MemberCertificate | undefined {
    const hit = this.#entries.get(key)
    if (hit !== undefined) {
      // Most recently used last.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
    }
    return hit
  }

  set(key: string, certificate: MemberCertificate): void {
    if (this.#capacity <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, certificate)
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
