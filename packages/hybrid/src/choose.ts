/**
 * Which of several values of one key is the best, by the namespace selector of the record rules
 * both backends run: what a read of a key with a journaled put returns, and whether the network
 * has superseded a journaled put.
 */
import { type RecordRules, selectBest } from '@chorus/dht'

/** Index of the best of `values` for `key`. */
export type ValueChooser = (key: string, values: Uint8Array[]) => number

/** The chooser of the given selectors; undefined without them (the hybrid then prefers its local value). */
export function valueChooser(records: Pick<RecordRules, 'selectors'> | undefined): ValueChooser | undefined {
  if (records === undefined) return undefined
  return (key, values) => selectBest(records, key, values)
}
