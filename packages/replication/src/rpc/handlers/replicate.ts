/**
 * The replicate handler: a peer pushed a record. The request reaching it is decoded, within
 * bounds and within the sender's rate (the edge checked that). In order, cheapest first:
 *
 * 1. a key this node does not manage is taken only when this node is among the
 *    `replicationFactor + holderSlack` closest to it (`NOT_A_TARGET`) and the sender's quota has
 *    room (`QUOTA`), both before any validation;
 * 2. the record is validated (`INVALID_RECORD`, and the sender is charged `invalid-record`);
 * 3. against a pinned record, succession decides (`STALE`, `EQUIVOCATION`);
 * 4. the record is stored in the node's DHT record store and pinned; its sender and the holders
 *    it names become candidates that a proof of possession must confirm before they count.
 *
 * `ok` means "this node now holds exactly the value you pushed".
 */
import { bytesEqual, errorText, type Logger } from '@chorus/common'
import {
  type DHT,
  EquivocationError,
  type RecordSelector,
  type RecordSuccession,
  StaleRecordError
} from '@chorus/dht'
import type { EquivocationEvent, PinnedEvent, ReplicationPenalty } from '../../api.js'
import type { ReplicationConfig } from '../../config.js'
import { type ContentEntries, type Entry, newEntry } from '../../entries.js'
import type { ReplicationCounters } from '../../metrics.js'
import { type ReplicateRequest, type ReplicateResponse, refusal } from '../../protocol.js'
import { judgeSuccession } from '../../succession.js'
import { isAmongClosest } from '../../targets.js'
import { nextHealthyCheck, republishEvery, spreadOver } from '../../timing.js'
import type { RecordValues } from '../../values.js'

export interface ReplicateHandlerComponents {
  entries: Pick<ContentEntries, 'get' | 'set' | 'value' | 'allowsPush'>
  dht: Pick<DHT, 'putValue'>
  values: Pick<RecordValues, 'validate' | 'held'>
  /** The namespace's selector (used without `succession`). */
  select: RecordSelector | undefined
  /** The namespace's succession rule. */
  succession: RecordSuccession | undefined
  /** This node's peer id. */
  peerId: string
  /** The peers this node is connected to (its view of the key's closest peers). */
  connected: () => Iterable<string>
  /** Whether the manager still runs (checked again after the record store was written). */
  isStarted: () => boolean
  /** Records provider candidates of the key (each to be challenged before it counts). */
  nominate: (key: string, peers: string[], at: number) => void
  /** The sender answered: it is live. */
  noteLive: (peer: string) => void
  /** Keys the application deleted: a push of one is refused as stale (no cost to the sender). */
  retired?: { has(key: string): boolean }
  /** A new or changed value was pinned. */
  pinned: (event: PinnedEvent) => void
  /** A pushed record contradicted the pinned one. */
  equivocation: (event: EquivocationEvent) => void
  /** Reports an offence of a peer. */
  penalise: (peer: string, reason: ReplicationPenalty) => void
  /** Wakes the scheduler (the new entry's jobs are due). */
  wake: () => void
  counters: Pick<ReplicationCounters, 'equivocations'>
  log: Logger
}

export type ReplicateHandlerInit = Pick<
  ReplicationConfig,
  | 'repairInterval'
  | 'republishInterval'
  | 'jitter'
  | 'replicationFactor'
  | 'holderSlack'
  | 'maxRecordsPerPeer'
  | 'maxBytesPerPeer'
  | 'maxPinnedBytes'
> &
  Partial<Pick<ReplicationConfig, 'enableSweep'>>

export async function handleReplicate(
  components: ReplicateHandlerComponents,
  init: ReplicateHandlerInit,
  req: ReplicateRequest,
  from: string
): Promise<ReplicateResponse> {
  const { entries, values, log } = components
  const { key, value } = req
  const existing = entries.get(key)
  if (components.retired?.has(key) === true) return refusal('STALE')
  if (existing == null) {
    const n = init.replicationFactor + init.holderSlack
    if (!isAmongClosest(key, components.peerId, components.connected(), n)) return refusal('NOT_A_TARGET')
    if (!entries.allowsPush(from, value.byteLength, init)) return refusal('QUOTA')
  }
  try {
    await values.validate(key, value)
  } catch (err) {
    log.debug({ key, from, err: errorText(err) }, 'replication: pushed record is invalid')
    components.penalise(from, 'invalid-record')
    return refusal('INVALID_RECORD')
  }
  const pinned = existing?.pinned === true ? entries.value(key) : undefined
  let keep = value
  let refused: 'STALE' | 'EQUIVOCATION' | undefined
  if (pinned != null && !bytesEqual(pinned, value)) {
    const s = judgeSuccession(components, key, pinned, value, existing?.origin === 'local')
    if (s.verdict !== 'replace') {
      if (s.verdict === 'equivocation') noteEquivocation(components, key, s.authorKey, from)
      return refusal(s.verdict === 'stale' ? 'STALE' : 'EQUIVOCATION')
    }
  }
  if (pinned == null || !bytesEqual(pinned, keep)) {
    try {
      await components.dht.putValue(key, keep, { localOnly: true })
    } catch (err) {
      // the record store holds a record the pushed one does not succeed: pin that one instead
      const authorKey = EquivocationError.isInstance(err) ? err.authorKey : undefined
      const held = authorKey != null || StaleRecordError.isInstance(err) ? await values.held(key) : undefined
      if (held == null) {
        log.warn({ key, err: errorText(err) }, 'replication: could not store a pushed record')
        return refusal('STORE_FAILED')
      }
      if (authorKey != null) noteEquivocation(components, key, authorKey, from)
      keep = held
      refused = authorKey != null ? 'EQUIVOCATION' : 'STALE'
    }
  }
  const changed = pinned == null || !bytesEqual(pinned, keep)
  if (!components.isStarted()) return refusal('NOT_ACCEPTING')
  // again, without an await before the pin: concurrent pushes all passed the first check
  if (existing == null && entries.get(key) == null && !entries.allowsPush(from, keep.byteLength, init)) {
    return refusal('QUOTA')
  }
  const now = Date.now()
  const entry: Entry =
    entries.get(key) ??
    newEntry(
      {
        key,
        size: keep.byteLength,
        priority: req.priority,
        createdAt: now,
        pinned: true,
        origin: 'replica',
        pushedBy: from
      },
      {
        // the pusher repairs; this node checks once later all the same (the holders the pusher
        // named are unproven, and it may die), spread so that a burst does not come due at once
        nextRepairAt: now + spreadOver(init.repairInterval),
        nextProvideAt: now,
        nextRepublishAt: now + spreadOver(republishEvery(init))
      }
    )
  entry.pinned = true
  if (entry.origin === 'replica') entry.size = keep.byteLength
  // a new or changed value is announced at once; a repeated push of the same value is not
  if (changed) entry.nextProvideAt = now
  entries.set(entry, changed ? keep : undefined)
  components.noteLive(from)
  if (changed) components.pinned({ key, value: keep, from })
  components.wake()
  if (refused != null) return refusal(refused)
  // candidates only: each proves possession before it counts as a holder
  const named = (req.holders ?? []).filter((h) => h !== components.peerId && h !== from)
  components.nominate(key, [from, ...named], now)
  return { ok: true }
}

function noteEquivocation(
  components: Pick<ReplicateHandlerComponents, 'counters' | 'equivocation' | 'log'>,
  key: string,
  authorKey: Uint8Array,
  from: string
): void {
  components.counters.equivocations++
  components.log.warn(
    { key, from, author: Buffer.from(authorKey).toString('base64url') },
    'replication: refused a record that contradicts the pinned one'
  )
  components.equivocation({ key, authorKey, from })
}

/**
 * A record this node's record store just accepted in full from `from` over another protocol (the
 * storage direct push, which validated it and applied the succession rule before storing it):
 * pinned as a replica under the same rules as a replicate push, without validating or storing
 * it again. Taken only when the key is retired nowhere, this node is among the key's closest and
 * the sender's quota has room (for a key not managed yet), and never over a key this node's
 * application stored (`origin: 'local'`). The sender noted this node and itself as providers,
 * so the first announcement and check come due spread over their intervals, not at once.
 * Returns whether the record is pinned here now.
 */
export function adoptStored(
  components: ReplicateHandlerComponents,
  init: ReplicateHandlerInit & { reprovideInterval: number },
  key: string,
  value: Uint8Array,
  from: string
): boolean {
  const { entries } = components
  if (components.retired?.has(key) === true || !components.isStarted()) return false
  const existing = entries.get(key)
  const now = Date.now()
  if (existing?.origin === 'local') return false
  const pinned = existing?.pinned === true ? entries.value(key) : undefined
  if (pinned != null && bytesEqual(pinned, value)) {
    components.nominate(key, [from], now)
    return true
  }
  if (existing == null) {
    // the writer pushes to spares too: only the target number of closest peers keep it pinned
    if (!isAmongClosest(key, components.peerId, components.connected(), init.replicationFactor)) return false
    if (!entries.allowsPush(from, value.byteLength, init)) return false
  }
  const entry: Entry =
    existing ??
    newEntry(
      {
        key,
        size: value.byteLength,
        priority: 1,
        createdAt: now,
        pinned: true,
        origin: 'replica',
        pushedBy: from,
        // announced: the pusher and this node noted each other as providers where it was stored
        lastReprovided: now
      },
      {
        nextRepairAt: nextHealthyCheck(init, now, true),
        nextProvideAt: now + spreadOver(init.reprovideInterval),
        nextRepublishAt: now + spreadOver(republishEvery(init))
      }
    )
  entry.pinned = true
  entry.size = value.byteLength
  entries.set(entry, value)
  components.noteLive(from)
  components.pinned({ key, value, from })
  components.nominate(key, [from], now)
  // nothing of it is due now: no scheduler tick (a burst of stores would tick it on every record)
  return true
}
