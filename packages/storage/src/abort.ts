import { StorageTimeoutError } from './errors.js'

/** The reason a signal carries, or an AbortError when it carries none. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  if (reason instanceof Error) return reason
  return new DOMException('The operation was aborted', 'AbortError')
}

/**
 * A signal for one operation: aborted by the caller's signal, by shutdown, or after `ms`
 * (then `timedOut()` is true so the caller can report a `StorageTimeoutError`).
 */
export function operationSignal(
  ms: number,
  ...signals: (AbortSignal | undefined)[]
): { signal: AbortSignal; timedOut: () => boolean; timeout: AbortSignal } {
  const timeout = AbortSignal.timeout(ms)
  const all = [timeout, ...signals.filter((s): s is AbortSignal => s !== undefined)]
  return { signal: AbortSignal.any(all), timedOut: () => timeout.aborted, timeout }
}

/**
 * Waits for `promise` but gives up (without cancelling it) when `signal` aborts or `ms` pass.
 * Used where the work must go on in the background after the caller stops waiting.
 */
export function waitAtMost<T>(
  promise: Promise<T>,
  ms: number,
  operation: string,
  signal?: AbortSignal
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal))
      return
    }
    const onAbort = (): void => {
      cleanup()
      reject(abortReason(signal as AbortSignal))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new StorageTimeoutError(operation, ms))
    }, ms)
    const cleanup = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        cleanup()
        resolve(v)
      },
      (err: unknown) => {
        cleanup()
        reject(err)
      }
    )
  })
}
