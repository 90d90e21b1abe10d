// Character classes as code-unit tests: a linear scan, no regular expression to backtrack.

/** `[A-Za-z0-9_-]` */
export function isComponentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2d // -
  )
}

/** `[A-Za-z0-9_.-]`: a path segment's characters (the `/` separator is handled by the caller). */
export function isSegmentChar(c: number): boolean {
  return isComponentChar(c) || c === 0x2e
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** Shows one character of the input readably, control and non-ASCII characters escaped. */
export function showChar(s: string, i: number): string {
  const cp = s.codePointAt(i) ?? 0
  if (cp >= 0x20 && cp < 0x7f) return `'${String.fromCharCode(cp)}'`
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
}
