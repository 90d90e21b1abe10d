/**
 * The DHT key layout of UCXL content, written once (namespace `CHORUS`, the first key segment,
 * is what kad-dht picks validators by):
 *
 *   /CHORUS/ucxl/<digest>          head: the latest version of the address (mutable)
 *   /CHORUS/ucxl/<digest>/v/<n>    version n of the address (immutable once written)
 *
 * `<digest>` is {@link addressDigest} of the canonical address without its temporal segment.
 */
import { DHT_KEY_PREFIX } from './digest.js'

const DIGEST_RE = /^[A-Za-z0-9_-]{16,128}={0,2}$/
const VERSION_RE = /^[1-9][0-9]{0,9}$/

/** The head key of a digest: where the latest version lives. */
export function headKey(digest: string): string {
  return `${DHT_KEY_PREFIX}${digest}`
}

/** The key of version `version` (1-based) of a digest. */
export function versionKey(digest: string, version: number): string {
  return `${DHT_KEY_PREFIX}${digest}/v/${version}`
}

/** A record key split into its digest and, for a version key, its version. */
export interface RecordKey {
  digest: string
  version?: number
}

/** Splits a key of this layout; null for any other key (never throws: keys come from peers). */
export function parseRecordKey(key: string): RecordKey | null {
  if (typeof key !== 'string' || !key.startsWith(DHT_KEY_PREFIX)) return null
  const parts = key.slice(DHT_KEY_PREFIX.length).split('/')
  const digest = parts[0]
  if (digest === undefined || !DIGEST_RE.test(digest)) return null
  if (parts.length === 1) return { digest }
  if (parts.length === 3 && parts[1] === 'v' && parts[2] !== undefined && VERSION_RE.test(parts[2])) {
    return { digest, version: Number(parts[2]) }
  }
  return null
}
