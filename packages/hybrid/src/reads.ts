/**
 * The read path. While the network lacks a journaled write of the key, the local copy and the
 * network's are both read and the selectors pick the best (the network may hold another writer's
 * newer record); during fail-over the local copy is the only one; otherwise the network answers
 * first and the local copy covers its misses and failures.
 */
import { abortError, bytesEqual } from '@chorus/common'
import type {
  ClosestPeersOptions,
  DHT,
  FindProvidersOptions,
  GetOptions,
  PeerInfo,
  ReceivedValue
} from '@chorus/dht'
import type { BackendCaller } from './backend-calls.js'
import type { ValueChooser } from './choose.js'
import { attempt, firstFound, notFound, type Source, unanswered, valueOr } from './fallback.js'
import type { JournalOp } from './journal.js'

type Reads = 'getValue' | 'getValues' | 'findProviders' | 'getClosestPeers'

export interface ReadPathComponents {
  primary: Pick<DHT, Reads>
  fallback: Pick<DHT, Reads>
  calls: BackendCaller & {
    /** `fn` under the time limit and the signals, booked nowhere. */
    bounded<T>(
      label: string,
      signal: AbortSignal | undefined,
      fn: (signal: AbortSignal) => Promise<T>
    ): Promise<T>
  }
  failover: { primaryActive(): boolean }
  journal: { has(op: JournalOp, key: string): boolean }
  lifetime(): AbortSignal
  /** The best of several values of a key; undefined when no selectors were given. */
  choose?: ValueChooser | undefined
}

export class ReadPath {
  readonly #c: ReadPathComponents

  constructor(components: ReadPathComponents) {
    this.#c = components
  }

  async getValue(key: string, options: GetOptions): Promise<Uint8Array> {
    const { calls, primary, fallback, failover, journal } = this.#c
    const signal = options.signal
    const primaryActive = failover.primaryActive()
    const local: Source<Uint8Array> = {
      backend: 'mock',
      read: () => calls.run('mock', 'getValue', signal, (s) => fallback.getValue(key, { signal: s }))
    }
    const remote: Source<Uint8Array> = {
      backend: 'real',
      read: () =>
        calls.run('real', 'getValue', signal, (s) => primary.getValue(key, { ...options, signal: s }))
    }
    // Failed over: the primary's own record store still answers without the network.
    const own: Source<Uint8Array> = {
      backend: 'real',
      read: async () => (await this.#ownStore(key, signal))[0]?.value
    }
    const choose = this.#c.choose
    if (primaryActive && choose !== undefined && journal.has('put', key)) {
      // A write the network has not taken yet is local, but the network may hold a newer record
      // (another writer's): the best of the two, by the selectors.
      const best = await this.#bestOf(key, choose, [local, remote], signal)
      if (best !== undefined) return best
    }
    const sources = !primaryActive
      ? [local, own]
      : journal.has('put', key)
        ? [local, remote]
        : [remote, local]
    const found = await firstFound(sources, { signal, lifetime: this.#c.lifetime() })
    if (found.value !== undefined) return found.value
    throw notFound('getValue', key, found.failures, primaryActive)
  }

  async getValues(key: string, options: GetOptions): Promise<ReceivedValue[]> {
    const { calls, primary, fallback, failover, journal } = this.#c
    const signal = options.signal
    const lifetime = this.#c.lifetime()
    const primaryActive = failover.primaryActive()
    const failures: { real?: unknown; mock?: unknown } = {}
    let remote: ReceivedValue[] = []
    if (primaryActive) {
      const r = await attempt(
        () =>
          calls.run('real', 'getValues', signal, (s) => primary.getValues(key, { ...options, signal: s })),
        { signal, lifetime }
      )
      if (r.ok) remote = r.value
      else if (r.kind !== 'not-found') failures.real = r.error
    }
    if (primaryActive && remote.length > 0 && !journal.has('put', key)) return remote
    const l = await attempt(
      () => calls.run('mock', 'getValues', signal, (s) => fallback.getValues(key, { signal: s })),
      { signal, lifetime }
    )
    let local: ReceivedValue[] = []
    if (l.ok) local = l.value
    else if (l.kind !== 'not-found') failures.mock = l.error
    if (local.length === 0 && !primaryActive) {
      const own = (await this.#ownStore(key, signal))[0]?.value
      if (own !== undefined) local = [{ value: own, from: 'self' }]
    }
    if (local.length === 0) {
      if (remote.length > 0) return remote
      const err = unanswered('getValues', failures, primaryActive)
      if (err !== undefined) throw err
      return []
    }
    // This node's own answer is the local one first: it holds writes the network may not have yet.
    // The network backend's own store may hold newer ones (a record put there alone, after the
    // primary came back, while an older put of the key still waits in the journal): kept too, so
    // the caller, which chooses among the values, never loses them.
    const own = local.map((v) => ({ value: v.value, from: 'self' }))
    return [
      ...own,
      ...remote.filter((v) => v.from !== 'self' || !own.some((o) => bytesEqual(o.value, v.value)))
    ]
  }

  async findProviders(key: string, options: FindProvidersOptions): Promise<PeerInfo[]> {
    const { calls, primary, fallback, failover } = this.#c
    const signal = options.signal
    const lifetime = this.#c.lifetime()
    const limit = options.limit ?? 20
    const local = valueOr(
      await attempt(
        () =>
          calls.run('mock', 'findProviders', signal, (s) =>
            fallback.findProviders(key, { limit, signal: s })
          ),
        { signal, lifetime }
      ),
      []
    )
    if (!failover.primaryActive()) return local.slice(0, limit)
    const remote = valueOr(
      await attempt(
        () =>
          calls.run('real', 'findProviders', signal, (s) => primary.findProviders(key, { limit, signal: s })),
        { signal, lifetime }
      ),
      []
    )
    const byId = new Map<string, PeerInfo>()
    for (const p of [...remote, ...local]) if (!byId.has(p.id)) byId.set(p.id, p)
    return [...byId.values()].slice(0, limit)
  }

  async getClosestPeers(key: string, options: ClosestPeersOptions): Promise<PeerInfo[]> {
    const { calls, primary, fallback, failover } = this.#c
    const signal = options.signal
    if (failover.primaryActive()) {
      const remote = await attempt(
        () =>
          calls.run('real', 'getClosestPeers', signal, (s) =>
            primary.getClosestPeers(key, { ...options, signal: s })
          ),
        { signal, lifetime: this.#c.lifetime() }
      )
      if (remote.ok) return remote.value
    }
    return calls.run('mock', 'getClosestPeers', signal, (s) =>
      fallback.getClosestPeers(key, { ...options, signal: s })
    )
  }

  /**
   * The best value the sources found by `choose`; undefined when none found one (the caller then
   * asks the sources in order).
   */
  async #bestOf(
    key: string,
    choose: ValueChooser,
    sources: Array<Source<Uint8Array>>,
    signal: AbortSignal | undefined
  ): Promise<Uint8Array | undefined> {
    const lifetime = this.#c.lifetime()
    const found: Uint8Array[] = []
    for (const source of sources) {
      const r = await attempt(source.read, { signal, lifetime })
      if (r.ok && r.value !== undefined) found.push(r.value)
    }
    if (found.length === 0) return undefined
    return found[choose(key, found)]
  }

  /** The primary's own record store (no network traffic); `[]` when it cannot answer. */
  async #ownStore(key: string, signal: AbortSignal | undefined): Promise<ReceivedValue[]> {
    try {
      return await this.#c.calls.bounded('real getValues', signal, (s) =>
        this.#c.primary.getValues(key, { localOnly: true, signal: s })
      )
    } catch {
      if (signal?.aborted === true) throw abortError(signal)
      return []
    }
  }
}
