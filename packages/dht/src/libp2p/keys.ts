import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { RecordRules } from '../contract.js'
import { EquivocationError, InvalidKeyError, InvalidRecordError, StaleRecordError } from '../errors.js'

const encoder = new TextEncoder()

/** The UTF-8 bytes of a DHT key. */
export function keyBytes(key: string): Uint8Array {
  return encoder.encode(key)
}

/**
 * A string key as a CID for provider records: CIDv1, raw codec, sha256 multihash of the key's
 * UTF-8 bytes. Every node derives the same CID from the same key.
 */
export async function keyToCid(key: string): Promise<CID> {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty key')
  return CID.createV1(raw.code, await sha256.digest(keyBytes(key)))
}

/** The namespace of a record key `/<namespace>/<rest>`; throws `InvalidKeyError` otherwise. */
export function recordNamespace(key: string): string {
  if (typeof key !== 'string') throw new InvalidKeyError(String(key), 'a key must be a string')
  const parts = key.split('/')
  if (parts.length < 3 || parts[0] !== '' || parts[1] === '' || parts.slice(2).join('/') === '') {
    throw new InvalidKeyError(key, 'a record key must look like /<namespace>/<name>')
  }
  return parts[1] as string
}

/**
 * Runs the namespace validator on a record this node is about to store or send, so a bad record
 * gets a typed error here instead of being refused silently by every peer.
 */
export async function validateRecord(rules: RecordRules, key: string, value: Uint8Array): Promise<void> {
  const ns = recordNamespace(key)
  const validator = rules.validators[ns]
  if (validator == null) {
    throw new InvalidKeyError(
      key,
      `no validator for namespace "${ns}"; pass validators and selectors for it in init.records`
    )
  }
  if (!(value instanceof Uint8Array)) throw new InvalidRecordError(key, 'value must be a Uint8Array')
  try {
    await validator(keyBytes(key), value)
  } catch (err) {
    // a record that may not succeed the held one is valid: its verdict passes through as it is
    if (StaleRecordError.isInstance(err) || EquivocationError.isInstance(err)) throw err
    throw new InvalidRecordError(key, err instanceof Error ? err.message : String(err), { cause: err })
  }
}

/** Index of the best value by the namespace selector (0 when there is one value or no selector). */
export function selectBest(rules: Pick<RecordRules, 'selectors'>, key: string, values: Uint8Array[]): number {
  if (values.length <= 1) return 0
  const selector = rules.selectors[recordNamespace(key)]
  if (selector == null) return 0
  const i = selector(keyBytes(key), values)
  return Number.isInteger(i) && i >= 0 && i < values.length ? i : 0
}
