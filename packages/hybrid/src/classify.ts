/**
 * How the hybrid reads a backend's error (by `isInstance()`, which holds across copies of
 * `@chorus/dht`, where `instanceof` does not).
 */
import { InvalidKeyError, InvalidRecordError, NotFoundError } from '@chorus/dht'

/** The backend answered: nothing there. Not a failure of the backend. */
export function isNotFound(err: unknown): boolean {
  return NotFoundError.isInstance(err)
}

/** The record or key itself is bad: retrying or another backend will not help. */
export function isInvalid(err: unknown): boolean {
  return InvalidRecordError.isInstance(err) || InvalidKeyError.isInstance(err)
}

/** Outcomes that say nothing about the backend's health. */
export function isAnswer(err: unknown): boolean {
  return isNotFound(err) || isInvalid(err)
}
