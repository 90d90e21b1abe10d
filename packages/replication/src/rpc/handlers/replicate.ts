/**
 * The replicate handler: a peer pushed a record. The request reaching it is decoded and within
 * bounds (the edge, `parseRequest`, checked that); here the record is validated, reconciled with
 * the pinned version by the selector (an older version never replaces a newer one), stored in the
 * node's DHT record store, pinned, and its sender and co-holders recorded as providers.
 */
import { errorText } from '@chorus/common'
import { type DHT, type RecordSelector, StaleRecordError } from '@chorus/dht'
import type { PinnedEvent } from '../../api.js'
import type { ReplicationConfig } from '../../config.js'
import { type ContentEntries, type Entry, newEntry } from '../../entries.js'
import { type ReplicateRequest, type ReplicateResponse, refusal } from '../../protocol.js'
import { withJitter } from '../../timing.js'
import { sameBytes } from '../../util.js'
import type { RecordValues } from '../../values.js'

export interface ReplicateHandlerComponents {
  entries: Pick<ContentEntries, 'get' | 'set' | 'value'>
  dht: Pick<DHT, 'putValue'>
  values: Pick<RecordValues, 'validate' | 'held'>
  /** The namespace's selector; without it the pushed value wins. */
  select: RecordSelector | undefined
  /** This node's peer id. */
  peerId: string
  /** Whether the manager still runs (checked again after the record store was written). */
  isStarted: () => boolean
  touchProvider: (key: string, peer: string, at: number) => void
  /** The sender answered: it is live. */
  noteLive: (peer: string) => void
  /** A new or changed value was pinned. */
  pinned: (event: PinnedEvent) => void
  /** Wakes the scheduler (the new entry's jobs are due). */
  wake: () => void
}

export type ReplicateHandlerInit = Pick<ReplicationConfig, 'repairInterval' | 'republishInterval' | 'jitter'>

const textEncoder = new TextEncoder()

export async function handleReplicate(
  components: ReplicateHandlerComponents,
  init: ReplicateHandlerInit,
  req: ReplicateRequest,
  from: string
): Promise<ReplicateResponse> {
  const { entries, values } = components
  const { key, value } = req
  try {
    await values.validate(key, value)
  } catch (err) {
    return refusal('INVALID_RECORD', `the record validator refused it: ${errorText(err)}`)
  }
  const existing = entries.get(key)
  const pinned = existing?.pinned === true ? entries.value(key) : undefined
  let keep = value
  if (pinned != null && !sameBytes(pinned, value) && components.select != null) {
    try {
      keep = components.select(textEncoder.encode(key), [pinned, value]) === 0 ? pinned : value
    } catch {
      keep = pinned
    }
  }
  if (pinned == null || !sameBytes(pinned, keep)) {
    try {
      await components.dht.putValue(key, keep, { localOnly: true })
    } catch (err) {
      // the record store already holds a version the selector prefers: pin that one instead
      const held = StaleRecordError.isInstance(err) ? await values.held(key) : undefined
      if (held == null) {
        return refusal('STORE_FAILED', `could not store it in the DHT record store: ${errorText(err)}`)
      }
      keep = held
    }
  }
  const changed = pinned == null || !sameBytes(pinned, keep)
  if (!components.isStarted()) return refusal('NOT_ACCEPTING', 'the replication manager is stopping')
  const now = Date.now()
  const entry: Entry =
    existing ??
    newEntry(
      {
        key,
        size: value.byteLength,
        priority: req.priority,
        createdAt: now,
        pinned: true,
        origin: 'replica'
      },
      {
        // the pusher repairs; this node checks later, in case the pusher dies
        nextRepairAt: now + withJitter(init.repairInterval, init.jitter),
        nextProvideAt: now,
        nextRepublishAt: now + withJitter(init.republishInterval, init.jitter)
      }
    )
  entry.pinned = true
  // a new or changed value is announced at once; a repeated push of the same value is not
  if (changed) entry.nextProvideAt = now
  entries.set(entry, changed ? keep : undefined)
  components.touchProvider(key, from, now)
  for (const h of req.holders ?? []) if (h !== components.peerId) components.touchProvider(key, h, now)
  components.noteLive(from)
  if (changed) components.pinned({ key, value: keep, from })
  components.wake()
  return { ok: true }
}
