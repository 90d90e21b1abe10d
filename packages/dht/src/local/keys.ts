import { InvalidKeyError, InvalidRecordError } from '../errors.js'

/**
 * The key as the bytes validators and selectors receive, and the record namespace of a key (its
 * first path segment; `InvalidKeyError` for a key without one): the same rules LibP2PDHT applies.
 */
export { keyBytes, recordNamespace as namespaceOf } from '../libp2p/keys.js'

/** Provider keys only need to be non-empty strings. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty key')
}

export function checkValue(key: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidRecordError(key, 'value must be a Uint8Array')
}
