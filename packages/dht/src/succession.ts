/**
 * Record succession: whether a valid record a peer offers may replace the valid record a node holds
 * for the same key. One check for every place that stores a record from a peer (kad-dht PUT_VALUE,
 * records pushed through `handle()` protocols, the local DHT), exported so that other packages
 * run the same check against a record they hold.
 */
import { bytesEqual } from '@chorus/common'
import type { RecordRules } from './contract.js'
import { StaleRecordError } from './errors.js'

const encoder = new TextEncoder()

/** The namespace of `/<namespace>/...` (undefined for any other shape: nothing to compare). */
function namespaceOf(key: string): string | undefined {
  const parts = key.split('/')
  return parts.length >= 3 && parts[0] === '' && parts[1] !== '' ? parts[1] : undefined
}

/**
 * Whether `incoming` may replace `held` for `key` (both already valid by the namespace validator).
 * Returns when it may (an identical copy always may). Otherwise throws:
 * - `StaleRecordError` when the held record must stay and nobody is to blame (an older record),
 * - `EquivocationError` (from the namespace's succession rule) when both contradict each other:
 *   the held one stays and the author (`err.authorKey`) is to blame, not the sender,
 * - whatever else the succession rule throws (the incoming record is then invalid).
 *
 * The namespace's `rules.succession` rule decides when there is one; otherwise the selector
 * (`select([held, incoming]) === 0` keeps the held one); with neither, the incoming one replaces.
 */
export function checkSuccession(
  rules: RecordRules,
  key: string,
  held: Uint8Array,
  incoming: Uint8Array
): void {
  if (bytesEqual(held, incoming)) return
  const ns = namespaceOf(key)
  if (ns === undefined) return
  const succeed = rules.succession?.[ns]
  if (succeed != null) {
    succeed(encoder.encode(key), held, incoming)
    return
  }
  const select = rules.selectors[ns]
  if (select != null && select(encoder.encode(key), [held, incoming]) === 0) throw new StaleRecordError(key)
}

/** Whether the namespace of `key` has a succession rule or a selector (else nothing is compared). */
export function hasSuccession(rules: RecordRules, key: string): boolean {
  const ns = namespaceOf(key)
  return ns !== undefined && (rules.succession?.[ns] != null || rules.selectors[ns] != null)
}
