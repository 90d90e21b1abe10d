import { createHash } from 'node:crypto'

/** Value hashes remembered by {@link indexOnce}, by default (about 200 KiB). */
export const INDEX_ONCE_MEMORY = 4096

/**
 * Indexes each replicated value once. A store's head and version records are the same bytes, and
 * a receiving node pins both, so every pushed store would be opened, checked, indexed and audited
 * twice. The hashes of the last `remember` values indexed (or being indexed) are kept; a value
 * whose indexing failed is forgotten, so a later pin tries again.
 */
export function indexOnce(
  index: (value: Uint8Array) => Promise<unknown>,
  remember = INDEX_ONCE_MEMORY
): (value: Uint8Array) => Promise<void> {
  const seen = new Set<string>()
  return async (value) => {
    const id = createHash('sha256').update(value).digest('base64')
    if (seen.has(id)) return
    seen.add(id)
    // a Set keeps insertion order: the oldest leaves first
    if (seen.size > remember) seen.delete(seen.values().next().value as string)
    try {
      await index(value)
    } catch (err) {
      seen.delete(id)
      throw err
    }
  }
}
