/**
 * Local content: the keys this node's application stored. `add` validates and pins the value
 * (given, else from the node's record store, else from the network), writes it into the record
 * store when it came from elsewhere, and queues its first announcement and spread; `remove` stops
 * managing the key and drops its pin.
 */
import { bytesEqual, errorText, type Logger } from '@chorus/common'
import type { DHT } from '@chorus/dht'
import type { AddContentOptions, PinnedEvent } from './api.js'
import type { ReplicationConfig } from './config.js'
import { type ContentEntries, type Entry, newEntry } from './entries.js'
import { InvalidArgumentError, UnknownContentError } from './errors.js'
import type { JobKind } from './scheduler.js'
import { nextHealthyCheck, republishEvery, spreadOver } from './timing.js'
import type { ReplicationHealth } from './types.js'
import type { RecordValues } from './values.js'

/** `from` of the `pinned` event for a value this node's application added. */
export const SELF = 'self'

export interface LocalContentComponents {
  entries: Pick<ContentEntries, 'get' | 'set' | 'has' | 'delete' | 'value'>
  dht: Pick<DHT, 'putValue'>
  values: Pick<RecordValues, 'read' | 'validate'>
  emitPinned: (event: PinnedEvent) => void
  emitUnpinned: (event: { key: string }) => void
  enqueue: (kind: JobKind, entry: Entry) => void
  /** Records a peer as a candidate provider of a key, seen now (the provider cache). */
  touchProvider: (key: string, peer: string) => void
  /** This node's peer id. */
  peerId: string
  /** Whether the peer (this node included) is a DHT server: only copies on servers count. */
  isServer: (peer: string) => boolean
  /** The health of a key with this many live holders. */
  healthOf: (actual: number) => ReplicationHealth
  log: Logger
}

export type LocalContentInit = Pick<
  ReplicationConfig,
  | 'maxRecordBytes'
  | 'enableAutoReplication'
  | 'republishInterval'
  | 'jitter'
  | 'replicationFactor'
  | 'repairInterval'
  | 'reprovideInterval'
> &
  Partial<Pick<ReplicationConfig, 'enableSweep'>>

export class LocalContent {
  private readonly components: LocalContentComponents
  private readonly init: LocalContentInit

  constructor(components: LocalContentComponents, init: LocalContentInit) {
    this.components = components
    this.init = init
  }

  async add(key: string, size: number, priority: number, options: AddContentOptions = {}): Promise<void> {
    const { entries, values, log } = this.components
    if (!Number.isFinite(size) || size < 0) throw new InvalidArgumentError('size', 'must be a number >= 0')
    if (!Number.isInteger(priority)) throw new InvalidArgumentError('priority', 'must be an integer')
    let value = options.value
    let fromStore = false
    if (value == null) {
      value = await values.read(key, options.signal)
      fromStore = value != null
    }
    if (value != null) {
      try {
        await values.validate(key, value)
      } catch (err) {
        throw new InvalidArgumentError('value', `the record validator refused it: ${errorText(err)}`, {
          cause: err
        })
      }
      if (value.byteLength > this.init.maxRecordBytes) {
        throw new InvalidArgumentError(
          'value',
          `${value.byteLength} bytes is more than maxRecordBytes (${this.init.maxRecordBytes})`
        )
      }
      if (!fromStore)
        await this.components.dht.putValue(key, value, { localOnly: true, signal: options.signal })
    } else {
      log.warn({ key }, 'replication: no value found for added content; it is tracked but not pinned')
    }
    const now = Date.now()
    const existing = entries.get(key)
    const previous = existing?.pinned === true ? entries.value(key) : undefined
    const fresh = value != null && (previous == null || !bytesEqual(previous, value))
    // the store's direct push already put this value on the target number of holders (counted
    // only on DHT servers: a copy on a client behind NAT is not readable by the network)
    const holders = [...new Set(options.holders ?? [])]
    const { isServer, peerId } = this.components
    const reachable = (isServer(peerId) ? 1 : 0) + holders.filter(isServer).length
    const placed = fresh && reachable >= this.init.replicationFactor
    const entry = newEntry(
      {
        key,
        size,
        priority,
        createdAt: existing?.createdAt ?? now,
        pinned: value != null || (existing?.pinned ?? false),
        origin: 'local',
        lastReprovided: placed ? now : existing?.lastReprovided,
        lastRepublished: existing?.lastRepublished,
        lastChecked: placed ? now : existing?.lastChecked,
        lastActual: placed ? reachable : existing?.lastActual,
        lastHealth: placed ? this.components.healthOf(reachable) : existing?.lastHealth
      },
      placed
        ? {
            // checked and announced on the normal schedule, spread so a burst does not come due at once
            nextRepairAt: nextHealthyCheck(this.init, now, true),
            nextProvideAt: now + spreadOver(this.init.reprovideInterval),
            nextRepublishAt: now + spreadOver(republishEvery(this.init)),
            fresh: false
          }
        : {
            nextRepairAt: now,
            nextProvideAt: now,
            // keys added in a burst come due for republish spread over the interval
            nextRepublishAt: now + spreadOver(republishEvery(this.init)),
            fresh
          }
    )
    entries.set(entry, value)
    for (const peer of placed ? holders : []) this.components.touchProvider(key, peer)
    if (value != null) this.components.emitPinned({ key, value, from: SELF })
    if (this.init.enableAutoReplication && entry.pinned && !placed) {
      // announce and repair at once, in the background: a DHT query can take up to its timeout
      this.components.enqueue('provide', entry)
      this.components.enqueue('repair', entry)
    }
  }

  remove(key: string): void {
    if (!this.components.entries.has(key)) throw new UnknownContentError(key)
    this.components.entries.delete(key)
    this.components.emitUnpinned({ key })
  }
}
