import { abortReason, anySignal, isAbortError } from '@chorus/common'
import { StorageTimeoutError } from './errors.js'

export interface OperationLimit {
  /** The time limit, in ms. */
  ms: number
  /** What the operation is, for the timeout error (`store of <address>`). */
  operation: string
  /** The caller's signal. */
  signal?: AbortSignal
  /** Aborts the operation too (the storage's shutdown). */
  shutdown?: AbortSignal
  /**
   * When the caller's signal aborted the operation and it failed with an abort error, throw the
   * caller's abort reason instead (a retrieve does; a store or an announce rethrows as it failed).
   */
  callerReason?: boolean
}

/**
 * Runs `fn` with a signal that aborts on the caller's signal, on shutdown or after `ms`. When the
 * time limit ended it, it rejects with a `StorageTimeoutError` (the failure as `cause`).
 */
export async function withinLimit<T>(
  limit: OperationLimit,
  fn: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const timeout = AbortSignal.timeout(limit.ms)
  try {
    return await fn(anySignal(timeout, limit.signal, limit.shutdown))
  } catch (err) {
    if (timeout.aborted) throw new StorageTimeoutError(limit.operation, limit.ms, { cause: err })
    if (limit.callerReason === true && limit.signal?.aborted === true && isAbortError(err))
      throw abortReason(limit.signal)
    throw err
  }
}
