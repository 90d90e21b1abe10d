// The pieces of the grammar, shared by the string parser and the object normaliser.
// Each check reports the field, a reason with the index into the original input, and the input.
import { isComponentChar, isDigit, isSegmentChar, showChar } from './chars.js'
import { UCXLAddressError } from './errors.js'
import type { Temporal, UCXLAddress, UCXLComponent } from './types.js'

/** The canonical spelling of the component wildcard. */
export const WILDCARD = 'any'
/** Other accepted spelling of the component wildcard. */
export const WILDCARD_ALIAS = '*'
/** Pattern path segment matching exactly one segment. */
export const SEGMENT_WILDCARD = '*'
/** Pattern path segment (last only) matching zero or more segments. */
export const REST_WILDCARD = '**'
/** The longest address accepted, as given and in canonical form. */
export const MAX_ADDRESS_LENGTH = 2048
export const SCHEME = 'ucxl://'

/** Validates one component (`s.slice(start, end)` of the input) and returns its canonical form. */
export function component(
  field: UCXLComponent,
  s: string,
  start: number,
  end: number,
  input: unknown
): string {
  if (start === end) throw new UCXLAddressError(field, 'is empty', input)
  const value = s.slice(start, end)
  if (value === WILDCARD_ALIAS) return WILDCARD
  for (let i = start; i < end; i++) {
    if (!isComponentChar(s.charCodeAt(i))) {
      throw new UCXLAddressError(
        field,
        `has invalid character ${showChar(s, i)} at index ${i} (allowed: A-Z a-z 0-9 _ -, or the wildcard 'any' / '*')`,
        input
      )
    }
  }
  return value
}

const TEMPORAL_FORMS = "expected '*^', '*~', '*~N', '~~N' or '^^N'"

/** Parses a temporal segment (`s.slice(start, end)`, never empty). */
export function temporal(s: string, start: number, end: number, input: unknown): Temporal {
  const a = s.charCodeAt(start)
  const b = end - start >= 2 ? s.charCodeAt(start + 1) : -1
  const rest = start + 2
  if (a === 0x2a /* * */ && b === 0x5e /* ^ */ && end === rest) return { kind: 'latest' }
  if (a === 0x2a && b === 0x7e /* ~ */) {
    if (end === rest) return { kind: 'first' }
    return { kind: 'version', n: number(s, rest, end, input) }
  }
  if (a === 0x7e && b === 0x7e) return { kind: 'back', n: number(s, rest, end, input) }
  if (a === 0x5e && b === 0x5e) return { kind: 'forward', n: number(s, rest, end, input) }
  const shown = s.slice(start, Math.min(end, start + 40))
  throw new UCXLAddressError(
    'temporal',
    `${JSON.stringify(shown)} is not a temporal segment: ${TEMPORAL_FORMS}`,
    input
  )
}

function number(s: string, start: number, end: number, input: unknown): number {
  if (start === end)
    throw new UCXLAddressError('temporal', `is missing its number N: ${TEMPORAL_FORMS}`, input)
  let n = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (!isDigit(c)) {
      throw new UCXLAddressError(
        'temporal',
        `has invalid character ${showChar(s, i)} at index ${i} in its number (digits only)`,
        input
      )
    }
    n = n * 10 + (c - 0x30)
    // Checked on every digit, so leading zeros are fine and a long run of digits stops early.
    if (n > Number.MAX_SAFE_INTEGER) {
      throw new UCXLAddressError('temporal', `number is larger than ${Number.MAX_SAFE_INTEGER}`, input)
    }
  }
  return n
}

/** Checks a Temporal object (from a caller, not from the parser). */
export function checkTemporal(t: unknown, input: unknown): Temporal {
  if (typeof t !== 'object' || t === null) throw new UCXLAddressError('temporal', 'must be an object', input)
  const { kind, n } = t as { kind?: unknown; n?: unknown }
  if (kind === 'latest' || kind === 'first') return { kind }
  if (kind === 'version' || kind === 'back' || kind === 'forward') {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new UCXLAddressError(
        'temporal',
        `n must be a non-negative safe integer for kind '${kind}'`,
        input
      )
    }
    return { kind, n }
  }
  throw new UCXLAddressError(
    'temporal',
    "kind must be one of 'latest', 'first', 'version', 'back', 'forward'",
    input
  )
}

export function formatTemporal(t: Temporal): string {
  switch (t.kind) {
    case 'latest':
      return '*^'
    case 'first':
      return '*~'
    case 'version':
      return `*~${t.n}`
    case 'back':
      return `~~${t.n}`
    case 'forward':
      return `^^${t.n}`
  }
}

/** Does this segment start like a temporal segment (`*`, `~` or `^`)? None of these is a path character. */
export function looksTemporal(c: number): boolean {
  return c === 0x2a || c === 0x7e || c === 0x5e
}

/**
 * Collects the path segments of `s.slice(start, end)`: empty segments (from `//` or a leading or
 * trailing `/`) are dropped; `.` and `..` are refused rather than resolved, so an address never
 * points outside the path it spells. In patterns a whole segment may be `*`, and the last `**`.
 */
export function pathSegments(
  s: string,
  start: number,
  end: number,
  input: unknown,
  pattern: boolean,
  into: string[]
): void {
  let segStart = start
  for (let i = start; i <= end; i++) {
    if (i < end && s.charCodeAt(i) !== 0x2f /* / */) continue
    if (i > segStart) into.push(segment(s, segStart, i, input, pattern))
    segStart = i + 1
  }
  for (let k = 0; k < into.length - 1; k++) {
    if (into[k] === REST_WILDCARD) {
      throw new UCXLAddressError('path', `'**' may only be the last segment of a pattern path`, input)
    }
  }
}

function segment(s: string, start: number, end: number, input: unknown, pattern: boolean): string {
  const value = s.slice(start, end)
  if (value === '.' || value === '..') {
    throw new UCXLAddressError('path', `has a '${value}' segment at index ${start} (not allowed)`, input)
  }
  if (pattern && (value === SEGMENT_WILDCARD || value === REST_WILDCARD)) return value
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    if (!isSegmentChar(c)) {
      const hint =
        c === 0x2a
          ? pattern
            ? " ('*' and '**' must be whole path segments)"
            : ' (wildcards are only allowed in patterns)'
          : ' (allowed: A-Z a-z 0-9 _ . - /)'
      throw new UCXLAddressError(
        'path',
        `has invalid character ${showChar(s, i)} at index ${i}${hint}`,
        input
      )
    }
  }
  return value
}

/** `ucxl://agent:role@project:task`, the address without temporal and path. */
export function authority(a: UCXLAddress): string {
  return `${SCHEME}${a.agent}:${a.role}@${a.project}:${a.task}`
}

export function canonical(a: UCXLAddress): string {
  return `${authority(a)}/${formatTemporal(a.temporal)}${a.path === '' ? '' : `/${a.path}`}`
}

export function checkLength(a: UCXLAddress, input: unknown): void {
  const length = canonical(a).length
  if (length > MAX_ADDRESS_LENGTH) {
    throw new UCXLAddressError(
      'address',
      `is ${length} characters long in canonical form (maximum ${MAX_ADDRESS_LENGTH})`,
      input
    )
  }
}
