import type { RecordRules } from '../contract.js'

/**
 * Record rules for tests and benchmarks: accept any value up to 1 MiB under `/CHORUS/...` (and
 * `/test/...`), prefer the lexicographically largest value. Production nodes take the real rules
 * from the storage package; these exist so that no production path accepts everything by default.
 */
export const permissiveRecords: RecordRules = {
  validators: {
    CHORUS: checkSize,
    test: checkSize
  },
  selectors: {
    CHORUS: largest,
    test: largest
  }
}

function checkSize(_key: Uint8Array, value: Uint8Array): void {
  if (value.byteLength > 1024 * 1024) throw new Error('value larger than 1 MiB')
}

function largest(_key: Uint8Array, records: Uint8Array[]): number {
  let best = 0
  for (let i = 1; i < records.length; i++) {
    if (compare(records[i]!, records[best]!) > 0) best = i
  }
  return best
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
