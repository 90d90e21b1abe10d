/**
 * The repairer: counts a key's live holders (peers that proved possession of the value, see
 * `possession.ts`) and, when this node holds it and they are fewer than the factor, pushes it to
 * the closest reachable non-holders. A value `addContent` just pinned is spread at once to the
 * peers that held a version of it and the closest peers. Results set the key's next check (the
 * repair interval when healthy, an exponential back-off when not).
 */
import { errorText, type Logger } from '@chorus/common'
import { sortByDistance } from '@chorus/dht'
import type { HealthEvent, RepairResult } from './api.js'
import type { ReplicationConfig } from './config.js'
import type { ContentEntries, Entry } from './entries.js'
import { ValueUnavailableError } from './errors.js'
import type { HealthTracker } from './health.js'
import type { ReplicationCounters } from './metrics.js'
import type { PossessionVerifier } from './possession.js'
import type { ProviderCache } from './providers.js'
import type { Pusher } from './pusher.js'
import { backoffDelay, nextHealthyCheck, withJitter } from './timing.js'
import type { RecordValues } from './values.js'

export interface RepairerComponents {
  entries: Pick<ContentEntries, 'persist' | 'write' | 'value' | 'healthOf'>
  providers: Pick<ProviderCache, 'lookup' | 'provenPeers'>
  /** Providers with proofs of possession checked: who counts. */
  holders: Pick<PossessionVerifier, 'holders'>
  pusher: Pick<Pusher, 'push' | 'pushToClosest'>
  health: Pick<HealthTracker, 'status'>
  values: Pick<RecordValues, 'read' | 'validate'>
  /** This node's peer id. */
  peerId: string
  /** Whether the peer (this node included) is a DHT server: only copies on servers count. */
  isServer: (peer: string) => boolean
  emitHealth: (event: HealthEvent) => void
  counters: Pick<ReplicationCounters, 'repairChecks' | 'lastRepairTime'>
  log: Logger
}

export type RepairerInit = Pick<
  ReplicationConfig,
  | 'replicationFactor'
  | 'maxProvidersPerKey'
  | 'enableAutoReplication'
  | 'repairInterval'
  | 'repairBackoffMin'
  | 'repairBackoffMax'
  | 'repairRankDelay'
  | 'jitter'
> &
  Partial<Pick<ReplicationConfig, 'enableSweep'>>

export class Repairer {
  private readonly components: RepairerComponents
  private readonly init: RepairerInit

  constructor(components: RepairerComponents, init: RepairerInit) {
    this.components = components
    this.init = init
  }

  /**
   * Counts the key's live holders and, when this node holds it and there are too few, pushes it to
   * the closest reachable non-holders. A holder that is not the closest live one to the key first
   * waits `rank * repairRankDelay` (jittered) and checks again, so normally one holder repairs.
   * `now` (an explicit `repair()`) skips that wait and runs even without auto-replication.
   */
  async checkAndRepair(entry: Entry, signal: AbortSignal, now: boolean): Promise<RepairResult> {
    const c = this.init
    const { entries, holders: verifier, values, log } = this.components
    const target = c.replicationFactor
    this.components.counters.repairChecks++
    entry.departed = 0
    this.components.counters.lastRepairTime = new Date()
    if (!entry.pinned) {
      // tracked without a value: try to fetch and pin it, then count
      const value = await values.read(entry.key, signal)
      if (value != null) {
        try {
          await values.validate(entry.key, value)
          entry.pinned = true
          entries.write(entry, value)
        } catch (err) {
          log.warn({ key: entry.key, err: errorText(err) }, 'replication: fetched value is invalid')
        }
      }
    }
    if (entry.fresh && entry.pinned && (c.enableAutoReplication || now)) {
      entry.fresh = false
      return this.spreadFresh(entry, signal)
    }
    // what this node knows (its pushes, the co-holders sent with the replicas it received, earlier
    // lookups) decides. A holder does not ask the DHT for providers when it counts too few: it
    // pushes to the closest connected non-holders it knows, and a peer that already holds the
    // value answers ok (and is counted) at the cost of one small request, far cheaper than a
    // provider query that reaches about k peers and, on a busy network, feeds a storm of them.
    // A node that tracks a key without its value asks the DHT.
    const t0 = Date.now()
    let found = await verifier.holders(entry.key, signal, false)
    const knownLive = found.filter((p) => p.live && p.proven).length
    if (!entry.pinned && knownLive < target) {
      // enough to find the live holders besides the dead ones already known: the query then
      // ends as soon as they are found instead of walking the whole network
      const knownDead = found.length - knownLive
      found = await verifier.holders(
        entry.key,
        signal,
        true,
        Math.min(c.maxProvidersPerKey, target + knownDead)
      )
    }
    const t1 = Date.now()
    const status = this.components.health.status(entry.key, found)
    const before = status.actualReplicas
    const result: RepairResult = { key: entry.key, before, after: before, target, pushedTo: [] }
    if (!entry.pinned) {
      entry.nextRepairAt = this.nextCheck(++entry.repairFailures)
      entries.persist(entry)
      return { ...result, skipped: 'not-holder' }
    }
    if (before >= target) {
      entry.repairFailures = 0
      entry.deferredUntil = undefined
      entry.nextRepairAt = this.nextCheck(0)
      entries.persist(entry)
      return { ...result, skipped: 'healthy' }
    }
    if (!c.enableAutoReplication && !now) return { ...result, skipped: 'disabled' }
    const holders = found.filter((p) => p.live && p.proven).map((p) => p.peerId)
    const rank = sortByDistance(entry.key, holders).indexOf(this.components.peerId)
    const t = Date.now()
    if (!now && rank > 0 && (entry.deferredUntil == null || entry.deferredUntil > t)) {
      if (entry.deferredUntil == null) {
        entry.deferredUntil = t + withJitter(rank * c.repairRankDelay, c.jitter)
      }
      entry.nextRepairAt = entry.deferredUntil
      return { ...result, skipped: 'deferred' }
    }
    entry.deferredUntil = undefined
    const value = entries.value(entry.key)
    if (value == null) throw new ValueUnavailableError(entry.key)
    const t2 = Date.now()
    const pushedTo = await this.components.pusher.pushToClosest(
      entry,
      value,
      new Set(holders),
      target - before,
      signal
    )
    log.debug(
      { key: entry.key, lookupMs: t1 - t0, decideMs: t2 - t1, pushMs: Date.now() - t2 },
      'replication: repair timings'
    )
    result.pushedTo = pushedTo
    result.after = before + pushedTo.length
    entry.repairFailures = result.after >= target ? 0 : entry.repairFailures + 1
    // no copy the network can read (say, written behind a NAT during a partition): retried at the
    // shortest back-off, so it reaches the servers soon after they are reachable again
    entry.nextRepairAt = this.nextCheck(
      result.after === 0 ? Math.min(1, entry.repairFailures) : entry.repairFailures
    )
    entry.lastActual = result.after
    entry.lastHealth = entries.healthOf(result.after)
    entries.persist(entry)
    if (pushedTo.length > 0) {
      log.info({ key: entry.key, before, after: result.after, pushedTo }, 'replication: repaired')
    }
    return result
  }

  /**
   * First spread of a value `addContent` just pinned (new, or a new version): the live peers that
   * proved they held a version of it get it (a holder keeps it only when it succeeds its own),
   * and the closest other peers fill up to the target. No provider lookup: this node just wrote
   * the value. Peers only named as holders by others are not sent it.
   */
  private async spreadFresh(entry: Entry, signal: AbortSignal): Promise<RepairResult> {
    const c = this.init
    const { entries, pusher } = this.components
    const target = c.replicationFactor
    const self = this.components.peerId
    const value = entries.value(entry.key)
    if (value == null) throw new ValueUnavailableError(entry.key)
    const known = await this.components.providers.lookup(entry.key, signal, false)
    const held = this.components.providers.provenPeers(entry.key)
    const liveKnown = known
      .filter((p) => p.live && p.peerId !== self && held.has(p.peerId))
      .map((p) => p.peerId)
    const holders = [self, ...liveKnown]
    const settled = await Promise.allSettled(
      liveKnown.map((peer) =>
        pusher.push(
          peer,
          entry,
          value,
          signal,
          holders.filter((h) => h !== peer)
        )
      )
    )
    const updated = liveKnown.filter((_, i) => settled[i]?.status === 'fulfilled')
    // copies the network can read: on servers, this node's own only while it is one
    const { isServer } = this.components
    const before = (isServer(self) ? 1 : 0) + updated.filter(isServer).length
    const more =
      before < target
        ? await pusher.pushToClosest(entry, value, new Set(holders), target - before, signal)
        : []
    const after = before + more.length
    entry.repairFailures = after >= target ? 0 : 1
    entry.nextRepairAt =
      after >= target
        ? nextHealthyCheck(c, Date.now())
        : Date.now() + backoffDelay(1, c.repairBackoffMin, c.repairBackoffMax, c.jitter)
    const health = entries.healthOf(after)
    if (entry.lastHealth !== health) {
      this.components.emitHealth({ key: entry.key, health, actualReplicas: after, targetReplicas: target })
    }
    entry.lastChecked = Date.now()
    entry.lastActual = after
    entry.lastHealth = health
    entries.persist(entry)
    this.components.log.info(
      { key: entry.key, updated, pushedTo: more, after },
      'replication: spread a new value'
    )
    return { key: entry.key, before, after, target, pushedTo: [...updated, ...more] }
  }

  /** When to check again after `failures` failed repairs in a row (0: healthy, see `nextHealthyCheck`). */
  private nextCheck(failures: number): number {
    const c = this.init
    if (failures === 0) return nextHealthyCheck(c, Date.now())
    return Date.now() + backoffDelay(failures, c.repairBackoffMin, c.repairBackoffMax, c.jitter)
  }
}
