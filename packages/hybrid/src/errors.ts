/**
 * Errors of the hybrid package. Each condition has its own class with a stable `name` and `code`.
 * Errors of the backends (`NotFoundError`, `InvalidRecordError`, ...) pass through unchanged.
 */
export class HybridError extends Error {
  readonly code: string
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'HybridError'
    this.code = code
  }
}

/** An init option or a `switchBackend` argument is unusable. */
export class HybridConfigError extends HybridError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'HYBRID_CONFIG', options)
    this.name = 'HybridConfigError'
  }
}

/** The write journal could not be opened, written or read (disk full, unwritable dataDir...). */
export class JournalError extends HybridError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'HYBRID_JOURNAL', options)
    this.name = 'JournalError'
  }
}

/** Neither backend could serve the operation; `cause` holds what the last one said. */
export class BackendsUnavailableError extends HybridError {
  readonly operation: string
  constructor(operation: string, options?: ErrorOptions) {
    super(
      `${operation}: neither the network nor the local backend could serve it`,
      'HYBRID_UNAVAILABLE',
      options
    )
    this.name = 'BackendsUnavailableError'
    this.operation = operation
  }
}
