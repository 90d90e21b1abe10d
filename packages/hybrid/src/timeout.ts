import { DhtTimeoutError } from '@chorus/dht'

/**
 * Runs `fn` with a signal that aborts on the caller's signal, on `lifetime` (shutdown) or after
 * `ms`; rejects with `DhtTimeoutError` on the time limit even if `fn` ignores its signal, so a
 * hung backend cannot hold an operation longer than the limit.
 */
export async function withTimeout<T>(
  operation: string,
  ms: number,
  signals: Array<AbortSignal | undefined>,
  fn: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const controller = new AbortController()
  const timeoutError = new DhtTimeoutError(operation, ms)
  let onAbort: (() => void) | undefined
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason)
  })
  // The race below always observes `stopped`; this keeps an unobserved rejection from surfacing.
  stopped.catch(() => {})
  controller.signal.addEventListener('abort', onAbort!, { once: true })
  const timer = setTimeout(() => controller.abort(timeoutError), ms)
  const listeners: Array<[AbortSignal, () => void]> = []
  for (const s of signals) {
    if (s === undefined) continue
    if (s.aborted) controller.abort(s.reason)
    const l = (): void => controller.abort(s.reason)
    s.addEventListener('abort', l, { once: true })
    listeners.push([s, l])
  }
  try {
    if (controller.signal.aborted) throw controller.signal.reason
    return await Promise.race([fn(controller.signal), stopped])
  } finally {
    clearTimeout(timer)
    for (const [s, l] of listeners) s.removeEventListener('abort', l)
  }
}

/** An `AbortError`-named error for a caller's aborted signal, as the Dht contract promises. */
export function abortError(signal: AbortSignal): Error {
  return new DOMException('The operation was aborted', { name: 'AbortError', cause: signal.reason })
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError(signal)
}
