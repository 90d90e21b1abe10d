import type { Logger } from '@chorus/common'
import { bytesEqual } from '@chorus/common'
import type { ResolvedAddress } from '../address.js'
import type { IndexAccess } from '../local-state.js'
import { hex } from '../metadata.js'
import { type Candidate, compareCandidates, consistent, fitsIndex } from './candidates.js'

export interface ChainVerifierComponents {
  local: IndexAccess
  /** Where predecessors and successors are looked up. */
  candidates: {
    versionCandidates(
      r: ResolvedAddress,
      n: number,
      signal: AbortSignal,
      quick: boolean
    ): Promise<Candidate[]>
  }
  logger?: Logger
}

export interface ChainVerifierInit {
  /** Most predecessors fetched per check (at least 1). */
  maxChainWalk: number
  /** Most successors a `'probe'` pick follows; 0 turns the probe off. */
  maxSuccessorProbe: number
  /** Time one successor probe may take, in ms. */
  successorProbeTimeout: number
}

/** The result of a chain check; `predecessor` is the genuine one when a forged successor named it. */
export interface ChainCheck {
  ok: boolean
  reason?: string
  predecessor?: Candidate
}

/** How {@link ChainVerifier.pickVerified} picks: a fixed version, the latest, or the latest probed forward. */
export type PickMode = 'version' | 'latest' | 'probe'

/**
 * Chooses, among verified copies of a record, the one whose author chain holds: each predecessor
 * must have the hash its successor names and the same author, back to a version this node trusts
 * or to version 1. Verified links are remembered in the index, so later checks stop early.
 */
export class ChainVerifier {
  readonly #c: ChainVerifierComponents
  readonly #init: ChainVerifierInit

  constructor(components: ChainVerifierComponents, init: ChainVerifierInit) {
    this.#c = components
    this.#init = init
  }

  /**
   * The best candidate whose chain verifies: the preferred author's first (see `consistent`),
   * then, when this node has no chain pinned, the others; for a read of the latest, the genuine
   * predecessor of a forged successor is tried in its place. With `'probe'`, the chosen version is
   * then carried forward along valid same-author successors at the version keys (`forward`): heads
   * may all have been rolled back. The first probe runs concurrently with the chain check.
   */
  async pickVerified(
    r: ResolvedAddress,
    candidates: Candidate[],
    signal: AbortSignal,
    mode: PickMode = 'version'
  ): Promise<Candidate | undefined> {
    const probe = mode === 'probe'
    const { index } = this.#c.local
    const queue = consistent(index, r, candidates).sort(compareCandidates)
    if (index.getChain(r.base) === undefined) {
      const rest = candidates.filter((c) => !queue.includes(c) && fitsIndex(index, r, c))
      queue.push(...rest.sort(compareCandidates))
    }
    const tried = new Set<string>()
    for (let i = 0; i < queue.length && tried.size < 8; i++) {
      const c = queue[i] as Candidate
      if (tried.has(c.hashHex)) continue
      tried.add(c.hashHex)
      const [v, next] = await Promise.all([
        this.verifyChain(r, c, signal),
        probe ? this.successorOf(r, c, signal) : Promise.resolve(undefined)
      ])
      if (v.ok) return probe ? this.forward(r, c, next, signal) : c
      this.#c.logger?.warn(
        { address: r.base, version: c.envelope.version, reason: v.reason },
        'refused a version whose chain does not verify'
      )
      const p = v.predecessor
      // a read of the latest falls back to the genuine predecessor; a read of version n does not
      if (mode !== 'version' && p !== undefined && !tried.has(p.hashHex) && fitsIndex(index, r, p))
        queue.splice(i + 1, 0, p)
    }
    return undefined
  }

  /**
   * Checks that `c` chains to a version this node trusts, or to version 1: each predecessor (from
   * the index, the local store, the nearest peers, else the network) must have the hash `previous`
   * names and the same author. At most `maxChainWalk` predecessors are fetched; past that, version
   * 1 must have the same author (honest writers never chain to another author's versions).
   * Verified links are remembered, so the next walk stops early.
   */
  async verifyChain(r: ResolvedAddress, c: Candidate, signal: AbortSignal): Promise<ChainCheck> {
    const { index } = this.#c.local
    const author = hex(c.envelope.author)
    const walked: { version: number; hash: string }[] = []
    let cur = c
    for (let steps = 0; ; steps++) {
      const v = cur.envelope.version
      const trusted = index.getTrusted(r.base, v)
      if (trusted !== undefined) {
        if (trusted.hash !== cur.hashHex || trusted.author !== author) {
          return { ok: false, reason: `version ${v} differs from the one this node trusts` }
        }
        break
      }
      walked.push({ version: v, hash: cur.hashHex })
      if (v === 1) {
        if (cur.envelope.previous !== null) return { ok: false, reason: 'version 1 names a predecessor' }
        break
      }
      if (cur.envelope.previous === null) return { ok: false, reason: `version ${v} names no predecessor` }
      if (steps >= this.#init.maxChainWalk) {
        const firsts = await this.#c.candidates.versionCandidates(r, 1, signal, false)
        if (!firsts.some((f) => hex(f.envelope.author) === author)) {
          return {
            ok: false,
            reason: `version 1 is not signed by the author of version ${c.envelope.version}`
          }
        }
        break
      }
      const want = hex(cur.envelope.previous)
      const before = (await this.#c.candidates.versionCandidates(r, v - 1, signal, false)).find(
        (p) => p.hashHex === want
      )
      if (before === undefined) {
        return { ok: false, reason: `version ${v - 1}, which version ${v} names, was not found` }
      }
      if (hex(before.envelope.author) !== author) {
        return {
          ok: false,
          predecessor: before,
          reason: `version ${v} is signed by another author than version ${v - 1}`
        }
      }
      cur = before
    }
    for (const w of walked) index.addLink(r.base, w.version, w.hash, author)
    return { ok: true }
  }

  /** A valid successor of `c` at `/v/<n+1>`: same author, names c's hash; looked for briefly. */
  async successorOf(r: ResolvedAddress, c: Candidate, signal: AbortSignal): Promise<Candidate | undefined> {
    if (this.#init.maxSuccessorProbe === 0) return undefined
    const probe = AbortSignal.any([signal, AbortSignal.timeout(this.#init.successorProbeTimeout)])
    let found: Candidate[]
    try {
      found = await this.#c.candidates.versionCandidates(r, c.envelope.version + 1, probe, true)
    } catch (err) {
      signal.throwIfAborted()
      this.#c.logger?.debug({ address: r.base, err: (err as Error).message }, 'successor probe ended early')
      return undefined
    }
    const { index } = this.#c.local
    return found.find(
      (s) =>
        s.envelope.previous !== null &&
        hex(s.envelope.previous) === c.hashHex &&
        bytesEqual(s.envelope.author, c.envelope.author) &&
        fitsIndex(index, r, s)
    )
  }

  /** Follows verified successors from `c` (at most `maxSuccessorProbe`), remembering each link. */
  async forward(
    r: ResolvedAddress,
    c: Candidate,
    next: Candidate | undefined,
    signal: AbortSignal
  ): Promise<Candidate> {
    const { index } = this.#c.local
    const max = this.#init.maxSuccessorProbe
    let cur = c
    for (let i = 0; next !== undefined && i < max; i++) {
      index.addLink(r.base, next.envelope.version, next.hashHex, hex(next.envelope.author))
      cur = next
      next = i + 1 < max ? await this.successorOf(r, cur, signal) : undefined
    }
    if (cur !== c) {
      this.#c.logger?.info(
        { address: r.base, head: c.envelope.version, found: cur.envelope.version },
        'the head records were behind the version keys: newer version found'
      )
    }
    return cur
  }
}
