import { type AddressLike, normaliseAddress, normalisePattern } from './format.js'
import { REST_WILDCARD, SEGMENT_WILDCARD, WILDCARD } from './grammar.js'
import { COMPONENTS } from './types.js'

/**
 * Does `address` fall under `pattern`?
 * - A pattern component `any` (or `*`) matches every value; any other value matches only itself
 *   (case-sensitive), so an address whose component is `any` is matched only by `any`.
 * - Paths match segment by segment: a pattern segment `*` matches exactly one segment, and a last
 *   segment `**` matches the rest, including nothing (`docs/**` matches `docs`, `docs/a`,
 *   `docs/a/b`). An empty pattern path matches only the empty path; `**` alone matches any path.
 * - Temporal segments are ignored on both sides: they choose a version of the same content, and
 *   the content's digest and DHT key ignore them too.
 * Strings are parsed first (`pattern` with {@link parsePattern}); invalid input throws
 * {@link UCXLAddressError}.
 */
export function matchesAddress(pattern: AddressLike, address: AddressLike): boolean {
  const p = normalisePattern(pattern)
  const a = normaliseAddress(address)
  for (const field of COMPONENTS) {
    if (p[field] !== WILDCARD && p[field] !== a[field]) return false
  }
  return matchPath(p.path, a.path)
}

function matchPath(pattern: string, path: string): boolean {
  const ps = pattern === '' ? [] : pattern.split('/')
  const as = path === '' ? [] : path.split('/')
  for (let i = 0; i < ps.length; i++) {
    const seg = ps[i]
    if (seg === REST_WILDCARD) return true // only ever the last segment
    if (i >= as.length) return false
    if (seg !== SEGMENT_WILDCARD && seg !== as[i]) return false
  }
  return ps.length === as.length
}

/**
 * True when the address or pattern has a wildcard component (`any`) or a wildcard path segment
 * (strings are parsed as patterns). Such an address names a set, not one piece of content.
 */
export function isWildcardAddress(pattern: AddressLike): boolean {
  const address = normalisePattern(pattern)
  if (COMPONENTS.some((field) => address[field] === WILDCARD)) return true
  return address.path.split('/').some((seg) => seg === SEGMENT_WILDCARD || seg === REST_WILDCARD)
}
