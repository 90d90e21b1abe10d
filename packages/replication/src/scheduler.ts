/**
 * The scheduler: one timer that ticks at most every second, finds the jobs that are due and runs
 * them through two priority queues. Repairs (check and push) have their own queue, bounded by
 * `maxConcurrentReplications`; announcements (provide, republish) run one at a time and only
 * while no repair waits, so a slow DHT query never holds back the copies that keep a record alive.
 * Cleanup runs inline on the tick (it only touches the database).
 */
import { errorText, type Logger, timeoutSignal } from '@chorus/common'
import PQueue from 'p-queue'
import type { ReplicationConfig } from './config.js'
import type { ContentEntries, Entry } from './entries.js'
import { withJitter } from './timing.js'

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
  entries: Pick<ContentEntries, 'values' | 'isCurrent'>
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
  | 'reprovideInterval'
  | 'republishInterval'
  | 'cleanupInterval'
  | 'repairRankDelay'
  | 'requestTimeout'
  | 'jitter'
>

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

  /** Enqueues every job that is due, by priority; runs cleanup inline. */
  runDue(now = Date.now()): void {
    const c = this.init
    this.components.jobs.tick(now)
    for (const e of this.components.entries.values()) {
      if (!e.pinned) {
        if (e.nextRepairAt <= now) this.enqueue('repair', e)
        continue
      }
      if (c.enableAutoReplication && e.nextRepairAt <= now) this.enqueue('repair', e)
      if (c.enableReprovide && e.nextProvideAt <= now) this.enqueue('provide', e)
      if (c.enableReprovide && e.nextRepublishAt <= now) this.enqueue('republish', e)
    }
    if (this.nextCleanupAt <= now) {
      this.components.jobs.cleanup()
      this.nextCleanupAt = now + withJitter(c.cleanupInterval, c.jitter)
    }
  }

  /** Queues one job for the entry unless the same job is already queued or running. */
  enqueue(kind: JobKind, entry: Entry): void {
    const id = `${kind}:${entry.key}`
    const queue = kind === 'repair' ? this.repairs : this.announcements
    const signal = this.signal
    if (this.inflight.has(id) || queue == null || signal == null) return
    this.inflight.add(id)
    const { entries, jobs, log } = this.components
    const current = (): boolean => this.running && entries.isCurrent(entry)
    queue
      .add(
        async () => {
          if (!current()) return
          if (kind !== 'repair') await this.repairsWaiting(signal)
          if (!current()) return
          const s = timeoutSignal(this.init.requestTimeout * 10, signal)
          await jobs[kind](entry, s)
        },
        { priority: jobPriority(kind, entry) }
      )
      .catch((err: unknown) => {
        if (this.running) log.debug({ kind, key: entry.key, err: errorText(err) }, 'replication: job failed')
      })
      .finally(() => this.inflight.delete(id))
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
