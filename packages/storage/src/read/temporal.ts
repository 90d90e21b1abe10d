import type { Temporal } from '../address.js'
import { InvalidAddressError } from '../errors.js'

/**
 * What a temporal segment asks for: the latest version, a fixed version, or the version `n`
 * below the latest (which needs the latest first).
 */
export type ReadTarget =
  | { kind: 'latest' }
  | { kind: 'version'; version: number }
  | { kind: 'back'; n: number }

/**
 * Resolves a temporal segment: `*^` the latest, `*~` version 1, `*~N` version N, `^^N` version
 * `from + N` (`from` defaults to 1 and must be a version number), `~~N` the latest minus N.
 */
export function readTarget(base: string, temporal: Temporal, from = 1): ReadTarget {
  switch (temporal.kind) {
    case 'latest':
      return { kind: 'latest' }
    case 'first':
      return { kind: 'version', version: 1 }
    case 'version':
      return { kind: 'version', version: temporal.n }
    case 'back':
      return { kind: 'back', n: temporal.n }
    case 'forward':
      if (!Number.isSafeInteger(from) || from < 1) {
        throw new InvalidAddressError(base, 'options.from must be a version number >= 1')
      }
      return { kind: 'version', version: from + temporal.n }
  }
}
