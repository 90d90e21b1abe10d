import { InvalidKeyError, InvalidRecordError } from '../errors.js'

const encoder = new TextEncoder()

/** The key as the bytes validators and selectors receive (UTF-8, as kad-dht sees a string key). */
export function keyBytes(key: string): Uint8Array {
  return encoder.encode(key)
}

/**
 * The record namespace of a key: its first path segment (`CHORUS` for `/CHORUS/ucxl/…`), the
 * same rule LibP2PDHT and kad-dht apply. Throws `InvalidKeyError` for a key without one.
 */
export function namespaceOf(key: unknown): string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), 'a key must be a string')
  const parts = key.split('/')
  const namespace = parts[1]
  if (parts.length < 3 || parts[0] !== '' || namespace === undefined || namespace === '') {
    throw new InvalidKeyError(key, 'a record key must look like /<namespace>/<name>')
  }
  if (parts.slice(2).join('/') === '') {
    throw new InvalidKeyError(key, 'a record key must look like /<namespace>/<name>')
  }
  return namespace
}

/** Provider keys only need to be non-empty strings. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty key')
}

export function checkValue(key: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidRecordError(key, 'value must be a Uint8Array')
}
