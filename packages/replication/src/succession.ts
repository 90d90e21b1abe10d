/**
 * Whether a pushed record may replace the one this node pinned for the key. With the namespace's
 * succession rule only a valid successor does; without it the selector decides, as kad-dht's
 * does; with neither, a replica pin is replaced but this node's own (the application's) is not.
 */
import { EquivocationError, type RecordSelector, type RecordSuccession } from '@chorus/dht'

export type Succession =
  | { verdict: 'replace' }
  | { verdict: 'stale' }
  | { verdict: 'equivocation'; authorKey: Uint8Array }

export interface SuccessionRules {
  succession: RecordSuccession | undefined
  select: RecordSelector | undefined
}

const textEncoder = new TextEncoder()

/** The verdict on `pushed` against `pinned` (two different, valid records of `key`). */
export function judgeSuccession(
  rules: SuccessionRules,
  key: string,
  pinned: Uint8Array,
  pushed: Uint8Array,
  ownPin: boolean
): Succession {
  const keyBytes = textEncoder.encode(key)
  if (rules.succession != null) {
    try {
      rules.succession(keyBytes, pinned, pushed)
      return { verdict: 'replace' }
    } catch (err) {
      if (EquivocationError.isInstance(err)) return { verdict: 'equivocation', authorKey: err.authorKey }
      // StaleRecordError, or a rule that fails otherwise: never give up what is held for it
      return { verdict: 'stale' }
    }
  }
  if (rules.select != null) {
    try {
      return rules.select(keyBytes, [pinned, pushed]) === 1 ? { verdict: 'replace' } : { verdict: 'stale' }
    } catch {
      return { verdict: 'stale' }
    }
  }
  return ownPin ? { verdict: 'stale' } : { verdict: 'replace' }
}
