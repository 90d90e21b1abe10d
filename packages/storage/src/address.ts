/**
 * The one place that talks to @chorus/ucxl: canonical addresses and digests. The DHT key layout
 * (`headKey`, `versionKey`, `parseRecordKey`) is @chorus/ucxl's, re-exported here.
 */
import { addressDigest, baseAddress, parseAddress, type UCXLAddress } from '@chorus/ucxl'
import { InvalidAddressError } from './errors.js'

export type { Temporal, UCXLAddress } from '@chorus/ucxl'
export { DHT_KEY_PREFIX as KEY_PREFIX, headKey, parseRecordKey, versionKey } from '@chorus/ucxl'

export interface ResolvedAddress {
  parsed: UCXLAddress
  /** Canonical address without temporal segment: what envelopes carry. */
  base: string
  digest: string
}

/** Parses a raw address or throws `InvalidAddressError` (the UCXL parser's error as `cause`). */
export function resolveAddress(raw: string): ResolvedAddress {
  if (typeof raw !== 'string') throw new InvalidAddressError(String(raw), 'not a string')
  let parsed: UCXLAddress
  try {
    parsed = parseAddress(raw)
  } catch (err) {
    throw new InvalidAddressError(raw, (err as Error).message ?? 'does not parse', { cause: err })
  }
  return { parsed, base: baseAddress(parsed), digest: addressDigest(parsed) }
}

/**
 * The address of one piece of content (no wildcard); `entry.address` (an audit entry's) is set to
 * its base form once it parses.
 */
export function resolveContentAddress(raw: string, entry?: { address?: string }): ResolvedAddress {
  const r = resolveAddress(raw)
  if (entry !== undefined) entry.address = r.base
  if (hasWildcard(r.parsed)) throw new InvalidAddressError(raw, 'a wildcard address names no content')
  return r
}

/** True when any of agent, role, project, task is the wildcard. */
export function hasWildcard(a: UCXLAddress): boolean {
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
