/**
 * The one place that talks to @chorus/ucxl: canonical addresses, digests and the DHT key layout.
 *
 * Key layout (namespace `CHORUS`, the first key segment, is what kad-dht picks validators by):
 *   /CHORUS/ucxl/<digest>          head: the latest version of the address (mutable)
 *   /CHORUS/ucxl/<digest>/v/<n>    version n of the address (immutable once written)
 * `<digest>` is `addressDigest()` of the canonical address without its temporal segment.
 */
import { addressDigest, baseAddress, parseAddress, type UcxlAddress } from '@chorus/ucxl'
import { InvalidAddressError } from './errors.js'

export type { Temporal, UcxlAddress } from '@chorus/ucxl'

export const KEY_PREFIX = '/CHORUS/ucxl/'
const DIGEST_RE = /^[A-Za-z0-9_-]{16,128}={0,2}$/
const VERSION_RE = /^[1-9][0-9]{0,9}$/

export interface ResolvedAddress {
  parsed: UcxlAddress
  /** Canonical address without temporal segment: what envelopes carry. */
  base: string
  digest: string
}

/** Parses a raw address or throws `InvalidAddressError` (the UCXL parser's error as `cause`). */
export function resolveAddress(raw: string): ResolvedAddress {
  if (typeof raw !== 'string') throw new InvalidAddressError(String(raw), 'not a string')
  let parsed: UcxlAddress
  try {
    parsed = parseAddress(raw)
  } catch (err) {
    throw new InvalidAddressError(raw, (err as Error).message ?? 'does not parse', { cause: err })
  }
  return { parsed, base: baseAddress(parsed), digest: addressDigest(parsed) }
}

/** True when any of agent, role, project, task is the wildcard. */
export function hasWildcard(a: UcxlAddress): boolean {
  return a.agent === 'any' || a.role === 'any' || a.project === 'any' || a.task === 'any'
}

/** The canonical base form of `raw`, or null when it is not a valid address. */
export function canonicalBaseAddress(raw: string): string | null {
  try {
    return baseAddress(parseAddress(raw))
  } catch {
    return null
  }
}

/** The digest of an already canonical base address (as envelopes carry it). */
export function digestOfBase(base: string): string {
  return addressDigest(parseAddress(base))
}

export function headKey(digest: string): string {
  return `${KEY_PREFIX}${digest}`
}

export function versionKey(digest: string, version: number): string {
  return `${KEY_PREFIX}${digest}/v/${version}`
}

/** Splits a record key of this package's layout; null for any other key. */
export function parseRecordKey(key: string): { digest: string; version?: number } | null {
  if (!key.startsWith(KEY_PREFIX)) return null
  const parts = key.slice(KEY_PREFIX.length).split('/')
  const digest = parts[0]
  if (digest === undefined || !DIGEST_RE.test(digest)) return null
  if (parts.length === 1) return { digest }
  if (parts.length === 3 && parts[1] === 'v' && parts[2] !== undefined && VERSION_RE.test(parts[2])) {
    return { digest, version: Number(parts[2]) }
  }
  return null
}
