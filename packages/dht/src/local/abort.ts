/**
 * Abort helpers shared by the local DHT: the contract says an aborted operation rejects with an
 * `AbortError`-named error, whatever reason the caller's signal carries.
 */

/** An `AbortError`-named error whose `cause` is the signal's reason. */
export function abortError(signal: AbortSignal): Error {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason })
}

/** Throws an `AbortError` when the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError(signal)
}
