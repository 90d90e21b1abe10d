/**
 * The possession verifier: a peer counts as a holder of a key only after it proved, within
 * `proofTTL`, that it holds exactly the value this node holds (or, when this node holds none,
 * the valid value it reads). Provider records, the holders a pusher names and the pusher itself
 * are candidates: each live one without a current proof is challenged (`prove`) before a count.
 *
 * Charges (`bogus-provider`) go only to a peer that made a claim about itself that it cannot
 * back: a wrong proof for the digest it accepted to prove, or "not held" after it announced
 * itself as a provider. A peer that others named and that says it does not hold the key is not
 * charged (else anyone could get an honest peer charged by naming it); one that holds another
 * version is not either (honest peers may). Neither counts. A failed challenge is not repeated
 * for `proofTTL` (at most one charge per key and peer in that time), unless a push of this node
 * makes the peer a holder first.
 */
import { errorText, type Logger, timeoutSignal } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ReplicationPenalty } from './api.js'
import type { ReplicationConfig } from './config.js'
import type { ContentEntries } from './entries.js'
import type { ReplicationCounters } from './metrics.js'
import { newNonce, possessionProof, sameDigest, valueDigest } from './proof.js'
import { decodeResponse, encodeProve, MAX_PING_RESPONSE_BYTES, type ReplicateResponse } from './protocol.js'
import type { ProviderCache } from './providers.js'
import type { ReplicationStore } from './store.js'
import type { ProviderInfo } from './types.js'
import type { RecordValues } from './values.js'

/** A value to prove against: the bytes and their SHA-256. */
export interface ReferenceValue {
  value: Uint8Array
  digest: Uint8Array
}

/** How a challenge ended. */
export type ProofOutcome =
  | 'proven'
  | 'not-held'
  | 'other-value'
  | 'false-proof'
  /** The peer could not be reached, answered garbage, or refused for another reason. */
  | 'unanswered'

export interface PossessionComponents {
  messaging: Pick<PeerMessaging, 'peerId' | 'request'>
  providers: Pick<ProviderCache, 'lookup'>
  entries: Pick<ContentEntries, 'pinnedValue'>
  values: Pick<RecordValues, 'readValid'>
  /** The open store, or undefined while stopped. */
  store: () => Pick<ReplicationStore, 'providers' | 'recordProof' | 'dropProvider'> | undefined
  penalise: (peer: string, reason: ReplicationPenalty) => void
  counters: Pick<ReplicationCounters, 'proofsRequested' | 'proofsFailed'>
  log: Logger
}

export interface PossessionInit extends Pick<ReplicationConfig, 'proofTTL' | 'requestTimeout'> {
  /** The replicate protocol id. */
  protocol: string
}

/** At most this many failed challenges are remembered (the oldest are forgotten first). */
const MAX_REMEMBERED_FAILURES = 10_000

export class PossessionVerifier {
  private readonly components: PossessionComponents
  private readonly init: PossessionInit
  /** `key \0 peer` → when a challenge of the peer for the key last failed. */
  private readonly failed = new Map<string, number>()

  constructor(components: PossessionComponents, init: PossessionInit) {
    this.components = components
    this.init = init
  }

  /**
   * The key's providers (see `ProviderCache.lookup`), each live one without a current proof
   * challenged: `proven` says who counts. Proven live ones first, then live, then the rest.
   */
  async holders(key: string, signal: AbortSignal, network = true, limit?: number): Promise<ProviderInfo[]> {
    const ref = await this.reference(key, signal)
    const found = await this.components.providers.lookup(key, signal, network, limit, ref?.digest)
    return this.verify(key, ref, found, signal)
  }

  /** Challenges the live, unproven providers in `found` (in place) and orders them. */
  async verify(
    key: string,
    ref: ReferenceValue | undefined,
    found: ProviderInfo[],
    signal: AbortSignal
  ): Promise<ProviderInfo[]> {
    const self = this.components.messaging.peerId
    if (ref != null) {
      const now = Date.now()
      const due = found.filter(
        (p) => p.live && !p.proven && p.peerId !== self && !this.failedRecently(key, p.peerId, now)
      )
      const announced = new Set(
        (this.components.store()?.providers(key) ?? []).filter((r) => r.announced).map((r) => r.peer)
      )
      await Promise.all(
        due.map(async (p) => {
          const outcome = await this.challenge(p.peerId, key, ref, signal)
          if (outcome === 'proven') p.proven = true
          else this.failedChallenge(key, p.peerId, outcome, announced.has(p.peerId))
        })
      )
    }
    const rank = (p: ProviderInfo): number => (p.live ? (p.proven ? 0 : 1) : 2)
    // a stable sort keeps each group's order (closest to the key first)
    return found.sort((a, b) => rank(a) - rank(b))
  }

  /** Asks `peer` to prove it holds `ref` for `key`; a proof is recorded in the store. */
  async challenge(
    peer: string,
    key: string,
    ref: ReferenceValue,
    signal: AbortSignal
  ): Promise<ProofOutcome> {
    const { counters, messaging, log } = this.components
    counters.proofsRequested++
    const nonce = newNonce()
    let res: ReplicateResponse
    try {
      const raw = await messaging.request(
        peer,
        this.init.protocol,
        encodeProve({ key, nonce, digest: ref.digest }),
        { signal: timeoutSignal(this.init.requestTimeout, signal), maxResponseBytes: MAX_PING_RESPONSE_BYTES }
      )
      try {
        res = decodeResponse(raw)
      } catch {
        this.components.penalise(peer, 'invalid-message')
        return 'unanswered'
      }
    } catch (err) {
      signal.throwIfAborted()
      log.debug({ key, peer, err: errorText(err) }, 'replication: proof request failed')
      return 'unanswered'
    }
    if (!res.ok) {
      if (res.code === 'NOT_HELD') return 'not-held'
      return res.code === 'OTHER_VALUE' ? 'other-value' : 'unanswered'
    }
    if (!sameDigest(res.proof, possessionProof(nonce, key, ref.value))) return 'false-proof'
    this.components.store()?.recordProof(key, peer, ref.digest, Date.now())
    this.failed.delete(`${key}\0${peer}`)
    return 'proven'
  }

  /** What holders must prove they hold: this node's pin, else the valid value it can read. */
  private async reference(key: string, signal: AbortSignal): Promise<ReferenceValue | undefined> {
    const pinned = this.components.entries.pinnedValue(key)
    if (pinned != null) return pinned
    const value = await this.components.values.readValid(key, signal)
    return value == null ? undefined : { value, digest: valueDigest(value) }
  }

  /** Whether the peer's last challenge for the key failed, within `proofTTL`. */
  failedRecently(key: string, peer: string, now = Date.now()): boolean {
    const at = this.failed.get(`${key}\0${peer}`)
    return at != null && now - at < this.init.proofTTL
  }

  private failedChallenge(key: string, peer: string, outcome: ProofOutcome, announced: boolean): void {
    if (outcome === 'unanswered') return
    const { counters, log } = this.components
    counters.proofsFailed++
    const id = `${key}\0${peer}`
    this.failed.delete(id)
    this.failed.set(id, Date.now())
    while (this.failed.size > MAX_REMEMBERED_FAILURES) {
      const oldest = this.failed.keys().next().value
      if (oldest === undefined) break
      this.failed.delete(oldest)
    }
    // another version is a holder of that version: kept as a candidate (a repair pushes ours)
    if (outcome === 'other-value') return
    this.components.store()?.dropProvider(key, peer)
    if (outcome === 'false-proof' || announced) {
      this.components.penalise(peer, 'bogus-provider')
      log.info({ key, peer, outcome }, 'replication: a claimed holder could not prove it')
    }
  }

  /** Forgets failed challenges (on stop). */
  clear(): void {
    this.failed.clear()
  }
}
