/**
 * The write path: every network put and provide lands on the local backend first (write-through),
 * then goes to the network, or into the journal when the network is failed over, refuses it for
 * want of peers, times out, or has earlier writes still waiting (so the network sees writes in
 * order). A put for this node's own record store (`localOnly`) is kept once: in the network
 * backend's own store while it is active (reads during fail-over ask that store too), in the
 * local backend only when that store cannot take it.
 */
import { errorText, type Logger } from '@chorus/common'
import type { DHT, ProvideOptions, ProvideResult, PutOptions, PutResult } from '@chorus/dht'
import type { BackendCaller } from './backend-calls.js'
import { BackendsUnavailableError } from './errors.js'
import { attempt } from './fallback.js'
import type { JournalOp } from './journal.js'

/** What the write path needs of the journal. */
export interface PendingWrites {
  /** Entries waiting for the network. */
  readonly size: number
  append(op: JournalOp, key: string, value: Uint8Array): void
  /** Starts a replay if one may run (`force`: even during the back-off after a failed write). */
  kick(force: boolean): void
  /** The primary just failed a write: puts do not start a replay for a short while. */
  deferReplay(): void
}

export interface WritePathComponents {
  primary: Pick<DHT, 'putValue' | 'provide'>
  fallback: Pick<DHT, 'putValue' | 'provide'>
  calls: BackendCaller
  failover: { primaryActive(): boolean }
  journal: PendingWrites
  lifetime(): AbortSignal
  logger: Logger
}

const EMPTY = new Uint8Array(0)

export class WritePath {
  readonly #c: WritePathComponents

  constructor(components: WritePathComponents) {
    this.#c = components
  }

  async put(key: string, value: Uint8Array, options: PutOptions): Promise<PutResult> {
    const { calls, failover, journal, primary, fallback } = this.#c
    const signal = options.signal
    const lifetime = this.#c.lifetime()
    if (options.localOnly === true && failover.primaryActive()) {
      // One stored copy: a record the network backend's own store took (and validated) needs no
      // second one in the local backend; an invalid record is refused here as there.
      const own = await attempt(
        () =>
          calls.run('real', 'putValue', signal, (s) =>
            primary.putValue(key, value, { localOnly: true, signal: s })
          ),
        { signal, lifetime, passThrough: ['aborted', 'shutdown'] }
      )
      if (own.ok) return { key, acks: [], storedLocally: true }
      this.#c.logger.debug(
        { key, err: errorText(own.error) },
        'own record store did not take a put; kept locally'
      )
    }
    // 1. The local copy: reads during fail-over see it, and it validates the record.
    const local = await attempt(
      () =>
        calls.run('mock', 'putValue', signal, (s) =>
          fallback.putValue(key, value, { localOnly: true, signal: s })
        ),
      { signal, lifetime, passThrough: ['aborted', 'shutdown'] }
    )
    const localStored = local.ok && local.value.storedLocally
    if (!local.ok)
      this.#c.logger.warn({ key, err: errorText(local.error) }, 'local backend could not store a put')

    if (options.localOnly === true) {
      if (!local.ok) throw new BackendsUnavailableError('putValue', { cause: local.error })
      return { key, acks: [], storedLocally: localStored }
    }

    // 2. The network, unless it is failed over or earlier writes still wait in the journal
    //    (then this one queues behind them, so the network sees writes in order).
    if (!failover.primaryActive() || journal.size > 0) {
      journal.append('put', key, value)
      journal.kick(false)
      return { key, acks: [], storedLocally: localStored }
    }
    const minAcks = options.minAcks !== undefined ? { minAcks: options.minAcks } : {}
    const remote = await attempt(
      () =>
        calls.run('real', 'putValue', signal, (s) => primary.putValue(key, value, { signal: s, ...minAcks })),
      { signal, lifetime, passThrough: [] }
    )
    if (remote.ok) {
      return { key, acks: remote.value.acks, storedLocally: localStored || remote.value.storedLocally }
    }
    // No peer took it (NoPeersAcknowledgedError: not on the network yet), a timeout, an error, an
    // abort or shutdown: the write is journaled and reaches the network on replay.
    journal.append('put', key, value)
    if (remote.kind === 'aborted') throw remote.error
    this.#c.logger.debug({ key, err: errorText(remote.error) }, 'put journaled: the network did not take it')
    // The primary just failed this write: give it a moment before a replay tries again.
    journal.deferReplay()
    return { key, acks: [], storedLocally: localStored }
  }

  /**
   * The local record first, then the network: the peers that acknowledged the announcement, or,
   * when the network is failed over, no peer acknowledged it (`NoPeersAcknowledgedError`), it
   * timed out or failed, the provide is journaled and replayed like a put, and the result names
   * no peer (`peers: []`).
   */
  async provide(key: string, options: ProvideOptions): Promise<ProvideResult> {
    const { calls, failover, journal, primary, fallback } = this.#c
    const signal = options.signal
    const lifetime = this.#c.lifetime()
    const local = await attempt(
      () => calls.run('mock', 'provide', signal, (s) => fallback.provide(key, { signal: s })),
      { signal, lifetime, passThrough: ['aborted', 'shutdown'] }
    )
    if (!local.ok) {
      this.#c.logger.warn({ key, err: errorText(local.error) }, 'local backend could not record a provide')
    }
    if (!failover.primaryActive()) {
      journal.append('provide', key, EMPTY)
      journal.kick(false)
      return { key, peers: [] }
    }
    const remote = await attempt(
      () => calls.run('real', 'provide', signal, (s) => primary.provide(key, { signal: s })),
      { signal, lifetime, passThrough: [] }
    )
    if (remote.ok) return { key, peers: remote.value.peers }
    journal.append('provide', key, EMPTY)
    if (remote.kind === 'aborted') throw remote.error
    this.#c.logger.debug({ key, err: errorText(remote.error) }, 'provide journaled: no peer acknowledged it')
    journal.deferReplay()
    return { key, peers: [] }
  }
}
