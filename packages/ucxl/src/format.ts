import { UCXLAddressError } from './errors.js'
import {
  authority,
  canonical,
  checkLength,
  checkTemporal,
  component,
  MAX_ADDRESS_LENGTH,
  pathSegments
} from './grammar.js'
import { parseAddress, parsePattern } from './parse.js'
import { COMPONENTS, type UCXLAddress } from './types.js'

/** An address as a parsed object or as a string in any accepted spelling. */
export type AddressLike = UCXLAddress | string

/**
 * Checks an address object built by hand and returns its normalised copy (`*` components become
 * `any`, empty path segments are dropped). Throws {@link UCXLAddressError} naming the bad field.
 */
export function normaliseAddress(address: AddressLike): UCXLAddress {
  return typeof address === 'string' ? parseAddress(address) : normaliseObject(address, false)
}

/** {@link normaliseAddress} for patterns: the path may hold `*` segments and a final `**`. */
export function normalisePattern(pattern: AddressLike): UCXLAddress {
  return typeof pattern === 'string' ? parsePattern(pattern) : normaliseObject(pattern, true)
}

/**
 * The canonical string of an address: `ucxl://agent:role@project:task/temporal[/path]`.
 * `formatAddress(parseAddress(x))` is canonical, and parsing it again gives the same address.
 */
export function formatAddress(address: AddressLike): string {
  return canonical(normaliseAddress(address))
}

/** The canonical string of a pattern (as {@link formatAddress}, path wildcards allowed). */
export function formatPattern(pattern: AddressLike): string {
  return canonical(normalisePattern(pattern))
}

/**
 * The canonical address without its temporal segment: `ucxl://agent:role@project:task[/path]`.
 * Every version of one piece of content shares it; it is what {@link addressDigest} hashes.
 */
export function baseAddress(address: AddressLike): string {
  const a = normaliseAddress(address)
  return a.path === '' ? authority(a) : `${authority(a)}/${a.path}`
}

function normaliseObject(value: unknown, pattern: boolean): UCXLAddress {
  try {
    return checkObject(value, pattern)
  } catch (err) {
    if (err instanceof UCXLAddressError) throw err
    // A getter or proxy that throws: still the one error type callers handle.
    throw new UCXLAddressError('address', 'could not be read as a UCXLAddress object', value, { cause: err })
  }
}

function checkObject(value: unknown, pattern: boolean): UCXLAddress {
  if (typeof value !== 'object' || value === null) {
    throw new UCXLAddressError('address', 'must be a string or a UCXLAddress object', value)
  }
  const obj = value as Record<string, unknown>
  const parts: string[] = []
  for (const field of COMPONENTS) {
    const v = obj[field]
    if (typeof v !== 'string') throw new UCXLAddressError(field, 'must be a string', v)
    if (v.length > MAX_ADDRESS_LENGTH) throw new UCXLAddressError(field, 'is too long', v)
    parts.push(component(field, v, 0, v.length, v))
  }
  const temporal = checkTemporal(obj.temporal, describe(obj.temporal))
  const path = obj.path ?? ''
  if (typeof path !== 'string') throw new UCXLAddressError('path', 'must be a string', path)
  const segments: string[] = []
  // Bounded before scanning, as for strings.
  if (path.length > MAX_ADDRESS_LENGTH) throw new UCXLAddressError('path', 'is too long', path)
  pathSegments(path, 0, path.length, path, pattern, segments)
  const [agent = '', role = '', project = '', task = ''] = parts
  const address: UCXLAddress = { agent, role, project, task, temporal, path: segments.join('/') }
  checkLength(address, canonical(address))
  return address
}

function describe(t: unknown): string {
  try {
    return JSON.stringify(t) ?? String(t)
  } catch {
    return '<temporal>'
  }
}
