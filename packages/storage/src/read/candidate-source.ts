import type { Logger } from '@chorus/common'
import { type DHT, type ReceivedValue, sortByDistance } from '@chorus/dht'
import { headKey, type ResolvedAddress, versionKey } from '../address.js'
import type { DirectClient } from '../direct/client.js'
import { isDHTNotFound } from '../error-mapping.js'
import type { IndexAccess } from '../local-state.js'
import type { RecordCheck } from '../record-check.js'
import { type Candidate, verifyCandidates } from './candidates.js'

export interface CandidateSourceComponents {
  dht: Pick<DHT, 'getValues'>
  local: IndexAccess
  /** The record check every copy must pass (with the team's write rule in team mode). */
  check: RecordCheck
  /** The direct record protocol's client and who it can ask; absent without messaging. */
  direct?: { client: DirectClient; getConnectedPeers(): string[] }
  logger?: Logger
}

export interface CandidateSourceInit {
  /** Time one direct request may take, in ms. */
  directTimeout: number
  /** Connected peers asked for a version or the head. */
  directReadPeers: number
}

/**
 * Where a read finds the copies of a record: the index, this node's own record store, the
 * connected peers nearest the key over the direct protocol, and the full query. Every copy comes
 * back verified by the record check ({@link verifyCandidates}), this node's own copies included.
 */
export class CandidateSource {
  readonly #c: CandidateSourceComponents
  readonly #init: CandidateSourceInit

  constructor(components: CandidateSourceComponents, init: CandidateSourceInit) {
    this.#c = components
    this.#init = init
  }

  /** Whether the direct protocol can be used (messaging is available). */
  get direct(): boolean {
    return this.#c.direct !== undefined
  }

  /** Every valid, distinct envelope among `values`. */
  verify(key: string, values: ReceivedValue[]): Candidate[] {
    return verifyCandidates(key, values, this.#c.check, this.#c.logger)
  }

  /** The `directReadPeers` connected peers nearest `key` (none without messaging). */
  nearestConnected(key: string): string[] {
    const direct = this.#c.direct
    if (direct === undefined) return []
    return sortByDistance(key, direct.getConnectedPeers(), { dropUndecodable: true }).slice(
      0,
      this.#init.directReadPeers
    )
  }

  /** A version this node holds in its index, re-verified. */
  held(r: ResolvedAddress, version: number): Candidate | undefined {
    const bytes = this.#c.local.index.getEnvelope(r.base, version)
    if (bytes === undefined) return undefined
    const [c] = this.verify(versionKey(r.digest, version), [{ value: new Uint8Array(bytes), from: 'self' }])
    return c
  }

  /** What this node's own record store holds for `key` (none when it holds nothing). */
  async own(key: string, signal: AbortSignal): Promise<ReceivedValue[]> {
    try {
      return await this.#c.dht.getValues(key, { localOnly: true, signal })
    } catch (err) {
      if (isDHTNotFound(err)) return []
      throw err
    }
  }

  /** What the full query returns for `key` (none when nobody has it). */
  async fetch(key: string, signal: AbortSignal): Promise<ReceivedValue[]> {
    try {
      return await this.#c.dht.getValues(key, { signal })
    } catch (err) {
      if (isDHTNotFound(err)) return []
      throw err
    }
  }

  /**
   * The values this node's own record store and `peers` (over the direct record protocol, within
   * `directTimeout`) hold for `key`, each with who sent it; a peer that fails or has none adds
   * nothing.
   */
  async ownAndPeers(key: string, peers: string[], signal: AbortSignal): Promise<ReceivedValue[]> {
    const client = this.#c.direct?.client
    const ask = AbortSignal.any([signal, AbortSignal.timeout(this.#init.directTimeout)])
    const [local, ...answers] = await Promise.allSettled([
      this.#c.dht.getValues(key, { localOnly: true, signal }),
      ...(client === undefined ? [] : peers.map((p) => client.fetch(p, key, ask)))
    ])
    signal.throwIfAborted()
    const values: ReceivedValue[] = local?.status === 'fulfilled' ? [...local.value] : []
    answers.forEach((a, i) => {
      const from = peers[i]
      if (a.status === 'fulfilled' && a.value !== undefined && from !== undefined)
        values.push({ value: a.value, from })
    })
    return values
  }

  /**
   * What the first of `peers` to answer holds for `key` (over the direct record protocol, each
   * within `directTimeout`, in order): empty when it holds nothing, undefined when none answered.
   */
  async firstAnswer(key: string, peers: string[], signal: AbortSignal): Promise<ReceivedValue[] | undefined> {
    const client = this.#c.direct?.client
    if (client === undefined) return undefined
    for (const peer of peers) {
      signal.throwIfAborted()
      try {
        const value = await client.fetch(
          peer,
          key,
          AbortSignal.any([signal, AbortSignal.timeout(this.#init.directTimeout)])
        )
        return value === undefined ? [] : [{ value, from: peer }]
      } catch {
        // no answer from this one: the next
      }
    }
    return undefined
  }

  /**
   * The verified copies of version n: the index, else this node's record store and the connected
   * peers nearest the head key (where stores push every version), else (unless `quick`) a full
   * query.
   */
  async versionCandidates(
    r: ResolvedAddress,
    n: number,
    signal: AbortSignal,
    quick: boolean
  ): Promise<Candidate[]> {
    const own = this.held(r, n)
    if (own !== undefined) return [own]
    const key = versionKey(r.digest, n)
    const peers = this.nearestConnected(headKey(r.digest))
    let found = this.verify(key, await this.ownAndPeers(key, peers, signal))
    if (found.length === 0 && (!quick || !this.direct))
      found = this.verify(key, await this.fetch(key, signal))
    return found
  }
}
