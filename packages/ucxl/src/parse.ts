import { UCXLAddressError } from './errors.js'
import {
  checkLength,
  component,
  looksTemporal,
  MAX_ADDRESS_LENGTH,
  pathSegments,
  REST_WILDCARD,
  SCHEME,
  SEGMENT_WILDCARD,
  temporal
} from './grammar.js'
import { COMPONENTS, type Temporal, type UCXLAddress } from './types.js'

/**
 * Parses and normalises a UCXL address. Accepts the canonical form
 * `ucxl://agent:role@project:task/temporal/path` and the legacy form
 * `ucxl://agent/role/project/task/path`; the temporal segment may be left out in both (it then
 * means `*^`, latest). Throws {@link UCXLAddressError} for anything else, including non-strings.
 */
export function parseAddress(raw: string): UCXLAddress {
  return parse(raw, false)
}

/**
 * Parses an address pattern for {@link matchesAddress}: an address whose path may also hold the
 * whole-segment wildcards `*` (one segment) and, as the last segment, `**` (any rest, even none).
 */
export function parsePattern(raw: string): UCXLAddress {
  return parse(raw, true)
}

/** True when {@link parseAddress} would accept `raw`. Never throws. */
export function isValidAddress(raw: unknown): raw is string {
  try {
    parse(raw, false)
    return true
  } catch {
    return false
  }
}

function parse(raw: unknown, pattern: boolean): UCXLAddress {
  if (typeof raw !== 'string') throw new UCXLAddressError('address', 'must be a string', raw)
  // The bound comes first, so no later step ever looks at more than MAX_ADDRESS_LENGTH characters.
  if (raw.length > MAX_ADDRESS_LENGTH) {
    throw new UCXLAddressError('address', `is longer than ${MAX_ADDRESS_LENGTH} characters`, raw)
  }
  if (raw.length === 0) throw new UCXLAddressError('address', 'is empty', raw)
  // URI schemes are case-insensitive; the canonical form writes it in lower case.
  if (raw.slice(0, SCHEME.length).toLowerCase() !== SCHEME) {
    throw new UCXLAddressError('scheme', `must be '${SCHEME}'`, raw)
  }

  const start = SCHEME.length
  const slash = raw.indexOf('/', start)
  const authEnd = slash === -1 ? raw.length : slash
  const parts: string[] = []
  let pos: number

  const colon = raw.indexOf(':', start)
  const at = raw.indexOf('@', start)
  if ((colon !== -1 && colon < authEnd) || (at !== -1 && at < authEnd)) {
    // Canonical: agent:role@project:task
    if (at === -1 || at > authEnd) {
      throw new UCXLAddressError(
        'address',
        "must have the form 'agent:role@project:task' before the first '/'",
        raw
      )
    }
    const c1 = colon
    if (c1 === -1 || c1 > at) throw new UCXLAddressError('role', "is missing (expected 'agent:role@')", raw)
    const c2 = raw.indexOf(':', at + 1)
    if (c2 === -1 || c2 > authEnd) {
      throw new UCXLAddressError('task', "is missing (expected '@project:task')", raw)
    }
    parts.push(
      component('agent', raw, start, c1, raw),
      component('role', raw, c1 + 1, at, raw),
      component('project', raw, at + 1, c2, raw),
      component('task', raw, c2 + 1, authEnd, raw)
    )
    pos = authEnd
  } else {
    // Legacy: agent/role/project/task
    pos = start
    for (const field of COMPONENTS) {
      if (pos > raw.length) {
        throw new UCXLAddressError(field, 'is missing (legacy form is agent/role/project/task/path)', raw)
      }
      const next = raw.indexOf('/', pos)
      const end = next === -1 ? raw.length : next
      parts.push(component(field, raw, pos, end, raw))
      pos = end + 1
    }
    pos -= 1 // back onto the '/' after the task, or the end
  }

  // What follows is [/temporal][/path], empty segments dropped.
  let from = pos
  while (from < raw.length && raw.charCodeAt(from) === 0x2f) from++
  let time: Temporal = { kind: 'latest' }
  if (from < raw.length && looksTemporal(raw.charCodeAt(from))) {
    const next = raw.indexOf('/', from)
    const end = next === -1 ? raw.length : next
    // In a pattern without temporal, a leading `*` or `**` is a path wildcard (no temporal is spelt so).
    const word = end - from <= 2 ? raw.slice(from, end) : ''
    if (!(pattern && (word === SEGMENT_WILDCARD || word === REST_WILDCARD))) {
      time = temporal(raw, from, end, raw)
      from = end
    }
  }
  const segments: string[] = []
  pathSegments(raw, from, raw.length, raw, pattern, segments)

  const [agent = '', role = '', project = '', task = ''] = parts
  const address: UCXLAddress = { agent, role, project, task, temporal: time, path: segments.join('/') }
  checkLength(address, raw)
  return address
}
