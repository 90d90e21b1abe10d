/**
 * Abort and time-limit helpers. The DHT contract (and every CHORUS async API) promises that an
 * operation aborted by the caller rejects with an `AbortError`-named error, whatever reason the
 * caller's signal carries; a time limit rejects with the caller's chosen timeout error.
 */

/** An `AbortError`-named DOMException whose `cause` is the signal's reason. */
export function abortError(signal: AbortSignal): Error {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason })
}

/** Throws {@link abortError} when the signal is already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError(signal)
}

/** The reason an aborted signal carries when it is an Error, else an {@link abortError}. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : abortError(signal)
}

/** A signal that aborts when any of the given signals does (undefined ones are skipped). */
export function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s != null))
}

/** A signal that aborts when any of the given signals does or after `ms`. */
export function timeoutSignal(ms: number, ...signals: Array<AbortSignal | undefined>): AbortSignal {
  return anySignal(AbortSignal.timeout(ms), ...signals)
}

/**
 * Waits `ms`, or less when `signal` aborts first. Never rejects: loops that pause between rounds
 * check their signal after it, so shutdown ends them at once.
 */
export function pause(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options
  if (signal?.aborted === true) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Waits for `promise`, but no longer than `ms` or until `signal` aborts: then it rejects (with
 * `onTimeout()`, or the signal's {@link abortReason}) while the promise itself goes on. Use it where
 * work must continue in the background after the caller stops waiting, or where a backend may
 * ignore its signal and must not hold the caller past the limit.
 */
export function waitAtMost<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => Error,
  signal?: AbortSignal
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted === true) {
      // The promise is abandoned: observe its rejection so it never surfaces as unhandled.
      promise.catch(() => {})
      reject(abortReason(signal))
      return
    }
    const cleanup = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = (): void => {
      cleanup()
      reject(abortReason(signal as AbortSignal))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(onTimeout())
    }, ms)
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

/**
 * Runs `fn` with a signal that aborts on any of `signals` (a caller's, shutdown) or after `ms`.
 * On the time limit it rejects with `onTimeout()` even if `fn` ignores its signal, so a hung
 * backend cannot hold an operation longer than the limit; on another abort, with that signal's
 * reason.
 */
export async function withTimeout<T>(
  ms: number,
  onTimeout: () => Error,
  signals: Array<AbortSignal | undefined>,
  fn: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(onTimeout()), ms)
  const listeners: Array<[AbortSignal, () => void]> = []
  for (const s of signals) {
    if (s === undefined) continue
    if (s.aborted) controller.abort(s.reason)
    const l = (): void => controller.abort(s.reason)
    s.addEventListener('abort', l, { once: true })
    listeners.push([s, l])
  }
  let onAbort: (() => void) | undefined
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason)
  })
  // The race below always observes `stopped`; this keeps an unobserved rejection from surfacing.
  stopped.catch(() => {})
  controller.signal.addEventListener('abort', onAbort as () => void, { once: true })
  try {
    if (controller.signal.aborted) throw controller.signal.reason
    return await Promise.race([fn(controller.signal), stopped])
  } finally {
    clearTimeout(timer)
    for (const [s, l] of listeners) s.removeEventListener('abort', l)
  }
}
