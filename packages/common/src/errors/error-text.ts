/** The longest text {@link errorText} returns. */
const MAX_ERROR_TEXT = 300

/**
 * A short, single-line description of any thrown value for logs and refusals: `name: message`,
 * cut at 300 characters. Never the stack, never an object dump (which could carry a secret).
 */
export function errorText(err: unknown): string {
  const text =
    err instanceof Error
      ? `${err.name}: ${err.message}`
      : typeof err === 'string'
        ? err
        : `non-error value of type ${err === null ? 'null' : typeof err}`
  const line = text.replace(/\s+/g, ' ')
  return line.length > MAX_ERROR_TEXT ? `${line.slice(0, MAX_ERROR_TEXT)}…` : line
}

/**
 * True for what an aborted operation rejects with: an `AbortError` (a caller's abort) or a
 * `TimeoutError` (`AbortSignal.timeout()`). These are platform DOMExceptions, so their name is
 * the only test that holds across realms.
 */
export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name
  return name === 'AbortError' || name === 'TimeoutError'
}
