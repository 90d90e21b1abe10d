import type { DHT, PutResult } from '@chorus/dht'
import { isNoPeersAcknowledged } from '../error-mapping.js'
import { type PushOutcome, reachedNearest } from './quorum-push.js'

/** What a store's kad puts need: the DHT and the background work they run in. */
export interface KadPutComponents {
  dht: Pick<DHT, 'putValue'>
  background: { taskSignal(): AbortSignal; track<T>(task: Promise<T>): Promise<T> }
}

/**
 * Puts one record; resolves at `minAcks` acknowledgements while the rest go on in the background
 * (tracked as a background task unless `track` is false: the caller tracks it).
 */
export async function kadPut(
  c: KadPutComponents,
  key: string,
  bytes: Uint8Array,
  required: number,
  options: { minAcks?: number | undefined; track?: boolean } = {}
): Promise<PutResult> {
  const { minAcks, track = true } = options
  const p = c.dht.putValue(key, bytes, {
    ...(minAcks !== undefined ? { minAcks: Math.max(1, minAcks) } : {}),
    signal: c.background.taskSignal()
  })
  if (track) c.background.track(p)
  try {
    return await p
  } catch (err) {
    // With nobody reachable the record is held locally and the quorum (0) is met.
    if (required === 0 && isNoPeersAcknowledged(err)) return { key, acks: [], storedLocally: true }
    throw err
  }
}

/**
 * The background kad puts of a store whose direct push met the quorum, skipped when the push
 * already put the records on the `max(nearest, required)` nearest connected peers (see
 * `reachedNearest`): a kad put would hand the same records to the same peers again, and
 * replication keeps those copies from then on.
 */
export function kadPutsUnlessPushed(
  c: KadPutComponents,
  pushed: PushOutcome,
  counts: { required: number; nearest: number },
  keys: { vkey: string; hkey: string },
  bytes: Uint8Array
): void {
  const { required } = counts
  const puts = (track: boolean) => [
    kadPut(c, keys.vkey, bytes, required, { track }),
    kadPut(c, keys.hkey, bytes, required, { track })
  ]
  // nobody was pushed to: the kad puts start now, as two background tasks
  if (pushed.nearest.length === 0) {
    for (const p of puts(true)) p.catch(() => undefined)
    return
  }
  // one background task: wait for every push, then put unless they reached the nearest peers
  const task = reachedNearest(pushed, Math.max(counts.nearest, required)).then((reached) =>
    reached ? undefined : Promise.allSettled(puts(false))
  )
  c.background.track(task).catch(() => undefined)
}
