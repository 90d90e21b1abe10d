/**
 * How the hybrid reads a backend's error. Names, not `instanceof`, so errors from another copy of
 * @chorus/dht (or any Dht implementation following the contract) classify the same way.
 */

/** The backend answered: nothing there. Not a failure of the backend. */
export function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'NotFoundError'
}

/** The record or key itself is bad: retrying or another backend will not help. */
export function isInvalid(err: unknown): boolean {
  return err instanceof Error && (err.name === 'InvalidRecordError' || err.name === 'InvalidKeyError')
}

/** Outcomes that say nothing about the backend's health. */
export function isAnswer(err: unknown): boolean {
  return isNotFound(err) || isInvalid(err)
}

export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  return String(err)
}
