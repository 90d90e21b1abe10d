/**
 * The write journal and its replay: writes the network has not taken are appended to the journal
 * (SQLite, so they survive a restart) and replayed to the primary once it is usable, the latest
 * entry per key in journal order, `concurrency` at a time. An entry leaves the journal only once
 * the primary acknowledged it (or refused it as invalid, which retrying cannot change): no write
 * is lost, and a replay stopped part-way (failure, shutdown) resumes where it stopped.
 */
import { bytesEqual, errorText, type Logger } from '@chorus/common'
import { type DHT, dhtNotStarted } from '@chorus/dht'
import type { BackendCaller } from './backend-calls.js'
import type { ValueChooser } from './choose.js'
import { isInvalid } from './classify.js'
import { Journal, type JournalEntry, type JournalOp } from './journal.js'
import type { JournalMetrics, ReplayResult } from './types.js'
import type { PendingWrites } from './writes.js'

export interface JournalReplayerComponents {
  /** Where journaled writes go (and, after a failed put, what the network holds of its key). */
  primary: Pick<DHT, 'putValue' | 'provide' | 'getValues'>
  calls: BackendCaller
  /** Whether journaled writes may go to the primary now. */
  failover: { primaryUsable(): boolean }
  /** The hybrid's current run: a replay stops when it aborts. */
  lifetime(): AbortSignal
  logger: Logger
  /** Keeps `stop()` of the hybrid waiting for a replay. Default: not tracked. */
  tasks?: { track<T>(task: Promise<T>): Promise<T> }
  /** The best of several values of a key. Default: none (a refused put stays journaled). */
  choose?: ValueChooser | undefined
}

export interface JournalReplayerInit {
  /** Directory of the journal file; `undefined`: in memory. */
  dataDir: string | undefined
  /** SQLite `synchronous` of the journal. */
  synchronous: 'normal' | 'full'
  /** Entries replayed at once. */
  concurrency: number
  /** How long after a failed write or replay a put does not start a replay, in ms. */
  backoff: number
}

export class JournalReplayer implements PendingWrites {
  readonly #c: JournalReplayerComponents
  readonly #init: JournalReplayerInit
  #journal: Journal | undefined
  #replaying: Promise<ReplayResult> | undefined
  #backoffUntil = 0
  #appended = 0
  #replayed = 0
  #dropped = 0
  #superseded = 0
  #lastReplayAt: Date | null = null
  #lastReplayError: string | null = null

  constructor(components: JournalReplayerComponents, init: JournalReplayerInit) {
    this.#c = components
    this.#init = init
  }

  /** Opens the journal (throws `JournalError`); a journal left by an earlier run replays soon. */
  start(): void {
    if (this.#journal !== undefined) return
    this.#journal = new Journal(this.#init.dataDir, this.#init.synchronous)
    // Writes journaled before a restart go out as soon as the primary takes them.
    if (this.#journal.size > 0) setImmediate(() => this.kick(true))
  }

  /** Waits for a replay in progress (it stops at once once the lifetime aborted) and closes the journal. */
  async stop(): Promise<void> {
    const journal = this.#journal
    if (journal === undefined) return
    await this.#replaying?.catch(() => {})
    this.#journal = undefined
    journal.close()
  }

  get isOpen(): boolean {
    return this.#journal !== undefined
  }

  /** Entries waiting for the network. */
  get size(): number {
    return this.#journal?.size ?? 0
  }

  has(op: JournalOp, key: string): boolean {
    return this.#journal?.has(op, key) ?? false
  }

  append(op: JournalOp, key: string, value: Uint8Array): void {
    if (this.#journal === undefined) throw dhtNotStarted('HybridDHT journal')
    this.#journal.append(op, key, value)
    this.#appended++
  }

  deferReplay(): void {
    this.#backoffUntil = Date.now() + this.#init.backoff
  }

  /**
   * Starts a replay unless one runs, the journal is empty or the primary is not usable. Kicks
   * from puts wait out the back-off after a failed write so a dead primary is not hammered;
   * probes, fail-back and switches (`force`) do not.
   */
  kick(force: boolean): void {
    const journal = this.#journal
    if (journal === undefined || journal.size === 0 || this.#replaying !== undefined) return
    if (!this.#running() || !this.#c.failover.primaryUsable()) return
    if (!force && Date.now() < this.#backoffUntil) return
    const run = this.#replay(journal)
    this.#replaying = run
    this.#c.tasks?.track(run)
    run
      .catch((err: unknown) => this.#c.logger.error({ err: errorText(err) }, 'journal replay crashed'))
      .finally(() => {
        if (this.#replaying === run) this.#replaying = undefined
      })
  }

  /** Replays now (joining a replay in progress) while the primary stays usable. */
  async replay(): Promise<ReplayResult> {
    this.kick(true)
    if (this.#replaying !== undefined) return this.#replaying
    return { replayed: 0, dropped: 0, superseded: 0, pending: this.size }
  }

  metrics(): JournalMetrics {
    return {
      pending: this.size,
      appended: this.#appended,
      replayed: this.#replayed,
      dropped: this.#dropped,
      superseded: this.#superseded,
      replaying: this.#replaying !== undefined,
      lastReplayAt: this.#lastReplayAt,
      lastReplayError: this.#lastReplayError
    }
  }

  #running(): boolean {
    return this.#journal !== undefined && !this.#c.lifetime().aborted
  }

  async #replay(journal: Journal): Promise<ReplayResult> {
    const log = this.#c.logger
    const result: ReplayResult = { replayed: 0, dropped: 0, superseded: 0, pending: journal.size }
    log.info({ pending: journal.size }, 'replaying the write journal to the network')
    let failure: unknown
    const going = (): boolean => failure === undefined && this.#running() && this.#c.failover.primaryUsable()
    const concurrency = this.#init.concurrency
    while (journal.size > 0 && going()) {
      // The latest entry of each key, oldest first: distinct keys, so no two entries of one key
      // are ever in flight. A sliding window over them (not batch by batch, where every batch
      // would wait for its slowest put).
      const snapshot = journal.next(Math.max(64, concurrency * 8))
      if (snapshot.length === 0) break
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < snapshot.length && going()) {
          const entry = snapshot[next++]!
          try {
            await this.#send(entry)
            journal.done(entry)
            result.replayed++
            this.#replayed++
          } catch (err) {
            if (!isInvalid(err) && (await this.#isSuperseded(entry))) {
              // The network holds this value, or a better one (another writer's newer record):
              // retrying cannot change that, and a stuck entry would hold back every later write.
              journal.done(entry)
              result.superseded++
              this.#superseded++
              log.info(
                { key: entry.key },
                'journaled put superseded on the network; dropped from the journal'
              )
            } else if (isInvalid(err)) {
              // The network refuses it and always will: keep the local copy, stop retrying.
              journal.done(entry)
              result.dropped++
              this.#dropped++
              log.error(
                { key: entry.key, op: entry.op, err: errorText(err) },
                'journaled write refused by the network; dropped from the journal'
              )
            } else {
              journal.failed(entry)
              failure ??= err
            }
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, snapshot.length) }, worker))
    }
    if (failure !== undefined) result.error = errorText(failure)
    this.#lastReplayAt = new Date()
    this.#lastReplayError = result.error ?? null
    result.pending = journal.size
    if (result.error !== undefined) {
      this.deferReplay()
      log.info({ ...result }, 'journal replay stopped; it resumes when the network takes writes again')
    } else {
      log.info({ ...result }, 'journal replay finished')
    }
    return result
  }

  /**
   * Whether the network already holds the journaled put's value or one the selectors prefer to it
   * (false for a provide, without selectors, or when the network cannot be asked).
   */
  async #isSuperseded(entry: JournalEntry): Promise<boolean> {
    const choose = this.#c.choose
    if (entry.op !== 'put' || choose === undefined || !this.#running()) return false
    let theirs: Uint8Array[]
    try {
      const { calls, primary } = this.#c
      const values = await calls.run('real', 'replay', undefined, (signal) =>
        primary.getValues(entry.key, { signal })
      )
      theirs = values.filter((v) => v.from !== 'self').map((v) => v.value)
    } catch {
      return false
    }
    if (theirs.length === 0) return false
    if (theirs.some((v) => bytesEqual(v, entry.value))) return true
    return choose(entry.key, [entry.value, ...theirs]) !== 0
  }

  async #send(entry: JournalEntry): Promise<void> {
    const { calls, primary } = this.#c
    if (entry.op === 'provide') {
      await calls.run('real', 'replay', undefined, (signal) => primary.provide(entry.key, { signal }))
      return
    }
    // A put the network acknowledged (LibP2PDHT rejects one that reached no peer): safe to drop.
    // Sending the same value twice after a crash is harmless, which makes replay idempotent.
    await calls.run('real', 'replay', undefined, (signal) =>
      primary.putValue(entry.key, entry.value, { signal })
    )
  }
}
