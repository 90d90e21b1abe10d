/**
 * The scheduler: one timer that ticks at most every second, asks the database for the jobs that
 * are due (at most `schedulerBatch` rows of each kind per tick, by indexes on the due times, so a
 * tick costs the same with 100 keys or 100,000) and runs them through two priority queues. Repairs (check and push) have their own queue, bounded by
 * `maxConcurrentReplications`; announcements (provide, republish) run one at a time and only
 * while no repair waits, so a slow DHT query never holds back the copies that keep a record alive.
 * Cleanup runs inline on the tick (it only touches the database).
 */
import { errorText, type Logger, timeoutSignal } from '@chorus/common'
import PQueue from 'p-queue'
import type { ReplicationConfig } from './config.js'
import type { ContentEntries, Entry } from './entries.js'
import type { DueKind } from './store.js'
import { backoffDelay, withJitter } from './timing.js'

export type JobKind = 'repair' | 'provide' | 'republish'
const JOB_RANK: Record<JobKind, number> = { repair: 2, provide: 1, republish: 0 }

/** The work the scheduler runs; each job sets the entry's next due time itself. */
export interface ScheduledJobs {
  repair(entry: Entry, signal: AbortSignal): Promise<unknown>
  provide(entry: Entry, signal: AbortSignal): Promise<unknown>
  republish(entry: Entry, signal: AbortSignal): Promise<unknown>
  /** Provider cleanup (every `cleanupInterval`). */
  cleanup(): void
  /** Runs first on every tick (notices departed co-holders). */
  tick(now: number): void
}

export interface SchedulerComponents {
  entries: Pick<ContentEntries, 'due' | 'isCurrent' | 'hold' | 'release' | 'persist'>
  jobs: ScheduledJobs
  log: Logger
}

export type SchedulerInit = Pick<
  ReplicationConfig,
  | 'maxConcurrentReplications'
  | 'enableAutoReplication'
  | 'enableReprovide'
  | 'repairInterval'
  | 'repairBackoffMin'
  | 'repairBackoffMax'
  | 'reprovideInterval'
  | 'republishInterval'
  | 'cleanupInterval'
  | 'repairRankDelay'
  | 'requestTimeout'
  | 'jitter'
  | 'schedulerBatch'
>

/** The due time of each kind of job. */
const DUE_FIELD = { repair: 'nextRepairAt', provide: 'nextProvideAt', republish: 'nextRepublishAt' } as const

/** The priority of a job in its queue (higher first). */
export function jobPriority(kind: JobKind, entry: Pick<Entry, 'priority' | 'departed'>): number {
  // Within a queue: repairs of records that lost more known holders first (they are the ones
  // about to be lost), then by content priority (clamped to -99..99); provides before republishes.
  const p = Math.max(-99, Math.min(99, entry.priority))
  const urgency = kind === 'repair' ? 200 * Math.min(3, entry.departed ?? 0) : 0
  return JOB_RANK[kind] * 1000 + urgency + p
}

/** The tick interval: a quarter of the shortest period, within 100 ms..1 s. */
export function tickInterval(c: SchedulerInit): number {
  const shortest = Math.min(
    c.repairInterval,
    c.repairBackoffMin,
    c.reprovideInterval,
    c.republishInterval,
    c.cleanupInterval,
    c.repairRankDelay || Number.POSITIVE_INFINITY
  )
  // at most 1 s: the tick also notices co-holders that disconnected
  return Math.min(1000, Math.max(100, Math.floor(shortest / 4)))
}

export class Scheduler {
  private readonly components: SchedulerComponents
  private readonly init: SchedulerInit
  private running = false
  private signal: AbortSignal | undefined
  /** Repairs (check and push). */
  private repairs: PQueue | undefined
  /** Provides and republishes: DHT queries that can take up to the query timeout each. */
  private announcements: PQueue | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly inflight = new Set<string>()
  /** Jobs queued or running, by kind. */
  private readonly pending: Record<JobKind, number> = { repair: 0, provide: 0, republish: 0 }
  private nextCleanupAt = 0

  constructor(components: SchedulerComponents, init: SchedulerInit) {
    this.components = components
    this.init = init
  }

  /** Creates the queues; jobs see `signal` abort on shutdown. Call {@link arm} to start ticking. */
  start(signal: AbortSignal): void {
    this.signal = signal
    this.repairs = new PQueue({ concurrency: this.init.maxConcurrentReplications })
    // one announcement at a time: each is a DHT query that reaches about k peers (far more work
    // for the whole network than a push); they trail the repairs instead of competing with them
    this.announcements = new PQueue({ concurrency: 1 })
    this.nextCleanupAt = Date.now() + withJitter(this.init.cleanupInterval, this.init.jitter)
    this.running = true
  }

  /** Stops ticking and drops waiting jobs (running ones go on until they see the aborted signal). */
  halt(): void {
    this.running = false
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
    this.repairs?.clear()
    this.announcements?.clear()
  }

  /** Waits for running jobs to end, then forgets the queues. */
  async drain(): Promise<void> {
    await Promise.all([this.repairs?.onIdle(), this.announcements?.onIdle()])
    this.repairs = undefined
    this.announcements = undefined
    this.inflight.clear()
    this.pending.repair = 0
    this.pending.provide = 0
    this.pending.republish = 0
    this.signal = undefined
  }

  async stop(): Promise<void> {
    this.halt()
    await this.drain()
  }

  /** Arms the timer to tick after `delay` ms (default and at most: the regular tick). */
  arm(delay?: number): void {
    if (!this.running) return
    const tick = tickInterval(this.init)
    const ms = Math.max(0, Math.min(delay ?? tick, tick))
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      try {
        this.runDue()
      } catch (err) {
        this.components.log.error({ err: errorText(err) }, 'replication: scheduler failed')
      }
      this.arm()
    }, ms)
    this.timer.unref?.()
  }

  /**
   * Enqueues due jobs by priority, up to `schedulerBatch` queued per kind: repairs of keys whose
   * holders left first, then the others by due time. Runs cleanup inline.
   */
  runDue(now = Date.now()): void {
    const c = this.init
    this.components.jobs.tick(now)
    if (c.enableAutoReplication) {
      this.fill('urgent', 'repair', now)
      this.fill('repair', 'repair', now)
    } else {
      // without auto-replication only keys tracked without their value are checked (to fetch it)
      this.fill('repair-unpinned', 'repair', now)
    }
    if (c.enableReprovide) {
      this.fill('provide', 'provide', now)
      this.fill('republish', 'republish', now)
    }
    if (this.nextCleanupAt <= now) {
      this.components.jobs.cleanup()
      this.nextCleanupAt = now + withJitter(c.cleanupInterval, c.jitter)
    }
  }

  /**
   * Queues due jobs of one kind while fewer than `schedulerBatch` are pending. At most that many
   * rows are read: the pending ones among them are skipped, so the rest fill the room.
   */
  private fill(due: DueKind, kind: JobKind, now: number): void {
    const batch = this.init.schedulerBatch
    let room = batch - this.pending[kind]
    if (room <= 0 || !this.running) return
    for (const e of this.components.entries.due(due, now, batch)) {
      if (room <= 0) break
      if (this.enqueue(kind, e)) room--
    }
  }

  /** Queues one job for the entry unless the same job is already queued or running; returns whether it queued it. */
  enqueue(kind: JobKind, entry: Entry): boolean {
    const id = `${kind}:${entry.key}`
    const queue = kind === 'repair' ? this.repairs : this.announcements
    const signal = this.signal
    if (this.inflight.has(id) || queue == null || signal == null) return false
    this.inflight.add(id)
    this.pending[kind]++
    const { entries, jobs, log } = this.components
    entries.hold(entry)
    const current = (): boolean => this.running && entries.isCurrent(entry)
    let ran = false
    queue
      .add(
        async () => {
          if (!current()) return
          if (kind !== 'repair') await this.repairsWaiting(signal)
          if (!current()) return
          const s = timeoutSignal(this.init.requestTimeout * 10, signal)
          ran = true
          await jobs[kind](entry, s)
        },
        { priority: jobPriority(kind, entry) }
      )
      .catch((err: unknown) => {
        if (this.running) log.debug({ kind, key: entry.key, err: errorText(err) }, 'replication: job failed')
      })
      .finally(() => {
        if (ran) this.settle(kind, entry)
        entries.release(entry)
        this.inflight.delete(id)
        this.pending[kind]--
      })
    return true
  }

  /**
   * Writes what the job left in the entry (every path, a deferral or a failure's back-off
   * included); a job that left itself due (it failed before setting a time) is retried after a
   * back-off instead of on every tick.
   */
  private settle(kind: JobKind, entry: Entry): void {
    const field = DUE_FIELD[kind]
    const now = Date.now()
    if (entry[field] <= now) {
      const c = this.init
      entry[field] = now + backoffDelay(1, c.repairBackoffMin, c.repairBackoffMax, c.jitter)
    }
    this.components.entries.persist(entry)
  }

  /** Resolves when no repair waits in its queue (running ones may go on), or on shutdown. */
  private async repairsWaiting(signal: AbortSignal): Promise<void> {
    const queue = this.repairs
    if (queue == null || queue.size === 0) return
    await Promise.race([
      queue.onEmpty(),
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    ])
  }
}
