import type { Logger } from '@chorus/common'
import type { AuditInput, AuditTrail } from './audit.js'
import type { AnyStorageError } from './error-mapping.js'

export interface AuditedOperationsComponents {
  /** The audit log (throws `StorageNotStartedError` when not started). */
  local: { readonly audit: AuditTrail }
  metrics: { failed(code: string): void; lastUpdate: number }
  /** Maps any failure of an operation on `address` to this package's errors. */
  mapError(err: unknown, address: string): AnyStorageError
  logger?: Logger
}

export interface AuditedOptions {
  /** Stamp `lastUpdate` in the metrics (stores and retrieves). */
  stampUpdate?: boolean
  /** Errors name the entry's address once resolved, instead of the address as given. */
  failOnEntryAddress?: boolean
}

/**
 * Runs the public operations: each appends its audit entry whatever happens (success, or the
 * mapped error's code and message), and its errors are mapped to storage errors and counted.
 */
export class AuditedOperations {
  readonly #c: AuditedOperationsComponents

  constructor(components: AuditedOperationsComponents) {
    this.#c = components
  }

  async run<T>(entry: AuditInput, options: AuditedOptions, fn: () => Promise<T>): Promise<T> {
    const { audit } = this.#c.local
    // list and search have no address: their errors name the operation
    const input = entry.address ?? entry.op
    try {
      const result = await fn()
      entry.success = true
      return result
    } catch (err) {
      const address = options.failOnEntryAddress === true ? (entry.address ?? input) : input
      const mapped = this.#c.mapError(err, address)
      this.#c.metrics.failed(mapped.code)
      this.#c.logger?.debug({ op: entry.op, address, code: mapped.code }, mapped.message)
      entry.error = { code: mapped.code, message: mapped.message }
      throw mapped
    } finally {
      if (options.stampUpdate === true) this.#c.metrics.lastUpdate = Date.now()
      audit.append(entry)
    }
  }
}
