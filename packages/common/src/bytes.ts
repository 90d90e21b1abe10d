/**
 * A copy of `bytes` as a plain Uint8Array in a buffer of its own, exactly its length. Not
 * `bytes.slice()`: on a Node Buffer (what cborg, node:crypto and many callers hand over) that is a
 * view sharing the caller's memory, so a cache that keeps it keeps the whole backing buffer (often
 * a 64 KiB read or an 8 KiB pool slab) while counting only the view's bytes.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/**
 * Whether `a` and `b` hold the same bytes, compared in place (not `Buffer.from(a).equals(b)`: on a
 * plain Uint8Array that copies `a` first).
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}
