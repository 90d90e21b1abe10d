import { createHash } from 'node:crypto'
import { type AddressLike, baseAddress } from './format.js'

/** Prefix of the DHT keys of UCXL content (the reference's `generateDHTKey`). */
export const DHT_KEY_PREFIX = '/CHORUS/ucxl/'

/**
 * The digest that names an address's content: SHA-256 of {@link baseAddress} (canonical, without
 * the temporal segment, UTF-8), in base64url *with* `=` padding, as the reference's Go
 * `base64.URLEncoding` writes it (44 characters). All spellings and versions of one address share it.
 */
export function addressDigest(address: AddressLike): string {
  const b64 = createHash('sha256').update(baseAddress(address), 'utf8').digest('base64')
  return b64.replaceAll('+', '-').replaceAll('/', '_')
}

/** The DHT key of an address's content: `/CHORUS/ucxl/<addressDigest>`. */
export function dhtKey(address: AddressLike): string {
  return DHT_KEY_PREFIX + addressDigest(address)
}
