import type { Logger } from '@chorus/common'
import { headKey, type ResolvedAddress, versionKey } from '../address.js'
import type { Consistency } from '../config.js'
import { ContentNotFoundError, IntegrityError } from '../errors.js'
import type { IndexAccess } from '../local-state.js'
import type { CandidateSource } from './candidate-source.js'
import { type Candidate, consistent } from './candidates.js'
import type { ChainVerifier } from './chain-verifier.js'

export interface ResolverComponents {
  local: IndexAccess
  candidates: Pick<
    CandidateSource,
    'direct' | 'verify' | 'held' | 'own' | 'fetch' | 'ownAndPeers' | 'nearestConnected'
  >
  chain: Pick<ChainVerifier, 'pickVerified'>
  repair: { repair(r: ResolvedAddress, c: Candidate): void }
  background: { run(what: string, fn: (signal: AbortSignal) => Promise<unknown>): void }
  /** Drops the cached versions of an address (after a background refresh found a newer one). */
  cache: { invalidate(base: string): unknown }
  logger?: Logger
}

export interface ResolverInit {
  /** The mode of a `*^` read that names none. */
  retrieveConsistency: Consistency
  /** Peers a `'closest'` read asks. */
  directReadPeers: number
}

/**
 * Finds the verified envelope of a version, or of the latest version in one of the three
 * consistency modes. Every mode refuses a version below one this node has seen (no rollback).
 */
export class RecordResolver {
  readonly #c: ResolverComponents
  readonly #init: ResolverInit

  constructor(components: ResolverComponents, init: ResolverInit) {
    this.#c = components
    this.#init = init
  }

  /** The latest version, read in `consistency` (default: `init.retrieveConsistency`). */
  latest(r: ResolvedAddress, consistency: Consistency | undefined, signal: AbortSignal): Promise<Candidate> {
    switch (consistency ?? this.#init.retrieveConsistency) {
      case 'local-first':
        return this.latestLocalFirst(r, signal)
      case 'closest':
        return this.#c.candidates.direct ? this.latestClosest(r, signal) : this.latestNetwork(r, signal)
      default:
        return this.latestNetwork(r, signal)
    }
  }

  /**
   * `'closest'`: the newest version among this node's own copy and the answers of the connected
   * peers nearest the key (where stores put their quorum). Falls back to the full query when
   * nobody has it; refreshes with one in the background when the answers were incomplete or
   * disagreed.
   */
  async latestClosest(r: ResolvedAddress, signal: AbortSignal): Promise<Candidate> {
    const { candidates: source, chain: verifier } = this.#c
    const { index } = this.#c.local
    const key = headKey(r.digest)
    const peers = source.nearestConnected(key)
    const all = source.verify(key, await source.ownAndPeers(key, peers, signal))
    const candidates = consistent(index, r, all)
    let best = await verifier.pickVerified(r, all, signal, 'probe')
    if (best === undefined) {
      this.#c.logger?.debug(
        { address: r.base, asked: peers.length },
        'no close peer holds the head: full query'
      )
      return this.latestNetwork(r, signal)
    }
    const chain = index.getChain(r.base)
    if (chain !== undefined && best.envelope.version < chain.highest) {
      best = source.held(r, chain.highest) ?? (await this.latestNetwork(r, signal))
    }
    const agreeing = candidates.filter((c) => c.envelope.version === best.envelope.version)
    const support = new Set(agreeing.flatMap((c) => [...c.from])).size
    if (candidates.some((c) => c.envelope.version < best.envelope.version)) this.#c.repair.repair(r, best)
    if (support < Math.min(peers.length, this.#init.directReadPeers)) {
      this.#c.logger?.debug(
        { address: r.base, support, asked: peers.length },
        'close peers disagree: background refresh'
      )
      this.refresh(r)
    }
    return best
  }

  /** `'network'`: what peers answer for the head key, never below what this node has seen. */
  async latestNetwork(r: ResolvedAddress, signal: AbortSignal): Promise<Candidate> {
    const { candidates: source, chain: verifier } = this.#c
    const { index } = this.#c.local
    const key = headKey(r.digest)
    const all = source.verify(key, await source.fetch(key, signal))
    const candidates = consistent(index, r, all)
    const best = await verifier.pickVerified(r, all, signal, 'probe')
    const chain = index.getChain(r.base)
    if (chain !== undefined && (best === undefined || best.envelope.version < chain.highest)) {
      // Peers offer nothing newer than what this node has seen: never roll back.
      const own =
        source.held(r, chain.highest) ?? (await this.version(r, chain.highest, signal).catch(() => undefined))
      if (own === undefined) {
        throw new IntegrityError(
          r.base,
          `peers offer version ${best?.envelope.version ?? 'none'} but version ${chain.highest} was seen before`
        )
      }
      this.#c.repair.repair(r, own)
      return own
    }
    if (best === undefined) {
      if (all.length > 0) {
        throw new IntegrityError(r.base, 'no copy of the head chains to its predecessors by the same author')
      }
      throw new ContentNotFoundError(r.base)
    }
    if (candidates.some((c) => c.envelope.version < best.envelope.version)) this.#c.repair.repair(r, best)
    return best
  }

  /**
   * `'local-first'`: the newest version this node holds (index or its own DHT record store) when
   * there is one, refreshed from the network in the background; the network otherwise.
   */
  async latestLocalFirst(r: ResolvedAddress, signal: AbortSignal): Promise<Candidate> {
    const { candidates: source, chain: verifier } = this.#c
    const { index } = this.#c.local
    const key = headKey(r.digest)
    const local = await source.own(key, signal)
    const chain = index.getChain(r.base)
    let best = await verifier.pickVerified(r, source.verify(key, local), signal, 'latest')
    if (chain !== undefined && (best === undefined || best.envelope.version < chain.highest)) {
      best = source.held(r, chain.highest) ?? best
    }
    if (best === undefined) return this.latestNetwork(r, signal)
    this.refresh(r)
    return best
  }

  /** Version n: from the index or the local record store when held (immutable), else the network. */
  async version(r: ResolvedAddress, n: number, signal: AbortSignal): Promise<Candidate> {
    const { candidates: source, chain: verifier } = this.#c
    const own = source.held(r, n)
    if (own !== undefined) return own
    const key = versionKey(r.digest, n)
    const held = await verifier.pickVerified(r, source.verify(key, await source.own(key, signal)), signal)
    if (held !== undefined) return held
    const fetched = source.verify(key, await source.fetch(key, signal))
    const best = await verifier.pickVerified(r, fetched, signal)
    if (best === undefined) {
      if (fetched.length > 0) {
        throw new IntegrityError(
          r.base,
          `no copy of version ${n} chains to its predecessors by the same author`
        )
      }
      throw new ContentNotFoundError(r.base, `version ${n} was not found`)
    }
    return best
  }

  /** A full query in the background; a newer version than the index knows is indexed. */
  private refresh(r: ResolvedAddress): void {
    this.#c.background.run('refresh of the head', async (s) => {
      const { index } = this.#c.local
      const fresh = await this.latestNetwork(r, s)
      if (fresh.envelope.version > (index.getChain(r.base)?.highest ?? 0)) {
        index.add(r.parsed, r.digest, fresh.envelope, fresh.bytes, fresh.hash, 'retrieved')
        this.#c.cache.invalidate(r.base)
      }
    })
  }
}
