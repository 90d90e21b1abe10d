/**
 * How the hybrid reads a backend's error.
 *
 * Interim: `@chorus/dht`'s errors do not carry `isInstance()` yet in this tree, so these use
 * `instanceof`; once they sit on `ChorusError` (`NotFoundError` being `@chorus/common`'s), each
 * test becomes `X.isInstance(err)`, which also holds across copies of the package.
 */
import { InvalidKeyError, InvalidRecordError, NotFoundError } from '@chorus/dht'

/** The backend answered: nothing there. Not a failure of the backend. */
export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError
}

/** The record or key itself is bad: retrying or another backend will not help. */
export function isInvalid(err: unknown): boolean {
  return err instanceof InvalidRecordError || err instanceof InvalidKeyError
}

/** Outcomes that say nothing about the backend's health. */
export function isAnswer(err: unknown): boolean {
  return isNotFound(err) || isInvalid(err)
}
