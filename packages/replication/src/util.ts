/** Small helpers shared by the manager's parts. */
import { InvalidArgumentError } from './errors.js'

/** Throws `InvalidArgumentError` unless the key looks like a DHT key (`/namespace/...`). */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || !key.startsWith('/')) {
    throw new InvalidArgumentError('key', 'must be a non-empty string starting with / (a DHT key)')
  }
}
