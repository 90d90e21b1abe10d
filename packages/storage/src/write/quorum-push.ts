import { type Logger, pause } from '@chorus/common'
import { sortByDistance } from '@chorus/dht'
import type { DirectClient } from '../direct/client.js'
import { type DirectRecord, REFUSAL_CODES } from '../direct/protocol.js'

export interface QuorumPushComponents {
  /** The direct protocol's client and who it can reach; absent without messaging. */
  direct?: { client: Pick<DirectClient, 'push'>; getConnectedPeers(): string[] }
  /** Tracks each push (they may outlive the quorum) and aborts them at shutdown. */
  background: { track<T>(task: Promise<T>): Promise<T>; readonly signal: AbortSignal }
  logger?: Logger
}

export interface QuorumPushInit {
  /** Push at all (`init.directReplication`). */
  enabled: boolean
  /** Time the pushes of one store may take, in ms. */
  directTimeout: number
}

/** What a push achieved. */
export interface PushOutcome {
  /** The peers that stored the records when the push resolved (`required` of them, or fewer when all answered). */
  peers: string[]
  /** The connected peers nearest the key, nearest first: where the push went, in that order. */
  nearest: string[]
  /** Every peer that stored the records, once every push (the spares' included) has settled. */
  settled: Promise<string[]>
}

const NOTHING: PushOutcome = { peers: [], nearest: [], settled: Promise.resolve([]) }
/**
 * A push still short of the quorum this long after it started sends to two spare peers as well
 * (a hedged request): a slow peer then costs this much latency, not the whole `directTimeout`,
 * while a push that meets its quorum in time costs no copy beyond `atOnce`.
 */
export const HEDGE_AFTER_MS = 300
const SPARES = 2

/**
 * The write quorum's fast path: hands a store's records to the connected peers nearest the key
 * over the direct record protocol.
 */
export class QuorumPush {
  readonly #c: QuorumPushComponents
  readonly #init: QuorumPushInit

  constructor(components: QuorumPushComponents, init: QuorumPushInit) {
    this.#c = components
    this.#init = init
  }

  /**
   * Pushes to `atOnce` peers at once (at least the quorum; default the quorum plus two spares),
   * the next nearest for each one that refuses or fails (peers without the protocol, say), and
   * two spares more when the quorum is not met within {@link HEDGE_AFTER_MS}; up to three times
   * the quorum plus two peers in all. A peer that answers
   * BUSY is sent the same records again after the wait it asks for (within `directTimeout`): it
   * is saturated, not refusing, and its acknowledgement still counts. Resolves once `required`
   * peers stored the records, or all answered.
   */
  push(key: string, records: DirectRecord[], required: number, atOnce = required + 2): Promise<PushOutcome> {
    const direct = this.#c.direct
    if (direct === undefined || !this.#init.enabled || required === 0) return Promise.resolve(NOTHING)
    const nearest = sortByDistance(key, direct.getConnectedPeers(), { dropUndecodable: true }).slice(
      0,
      required * 3 + 2
    )
    if (nearest.length === 0) return Promise.resolve(NOTHING)
    const queue = [...nearest]
    const signal = AbortSignal.any([this.#c.background.signal, AbortSignal.timeout(this.#init.directTimeout)])
    const acked: string[] = []
    const all: Array<Promise<void>> = []
    return new Promise((resolve) => {
      let running = 0
      let done = false
      let hedge: ReturnType<typeof setTimeout> | undefined
      const finish = (): void => {
        if (!done && (acked.length >= required || (running === 0 && queue.length === 0))) {
          done = true
          clearTimeout(hedge)
          resolve({ peers: [...acked], nearest, settled: Promise.all(all).then(() => [...acked]) })
        }
      }
      const next = (): void => {
        const peer = queue.shift()
        if (peer === undefined) return
        running++
        const p = this.#pushTo(direct.client, peer, records, signal)
          .then((ok) => {
            if (ok) acked.push(peer)
            else if (!done) next()
          })
          .finally(() => {
            running--
            finish()
          })
        all.push(p)
        this.#c.background.track(p)
      }
      for (let i = 0; i < Math.max(required, atOnce); i++) next()
      if (!done && queue.length > 0) {
        hedge = setTimeout(() => {
          if (!done) for (let i = 0; i < SPARES; i++) next()
        }, HEDGE_AFTER_MS)
        hedge.unref?.()
      }
      finish()
    })
  }

  /** One peer: true once it stored the records; BUSY answers are waited out and sent again. */
  async #pushTo(
    client: Pick<DirectClient, 'push'>,
    peer: string,
    records: DirectRecord[],
    signal: AbortSignal
  ): Promise<boolean> {
    for (;;) {
      try {
        const answer = await client.push(peer, records, signal)
        if (answer.ok) return true
        if (answer.code === REFUSAL_CODES.BUSY && !signal.aborted) {
          await pause(answer.retryAfterMs ?? 100, { signal })
          continue
        }
        this.#c.logger?.debug({ peer, code: answer.code }, 'a peer refused the pushed records')
        return false
      } catch (err) {
        this.#c.logger?.debug({ peer, err: (err as Error).message }, 'direct push failed')
        return false
      }
    }
  }
}

/**
 * Whether, once every push has settled, the peers that stored the records include the `count`
 * connected peers nearest the key (all of them when fewer are connected). A kad put would then
 * hand the same records to the same peers again: in a team network every peer a node knows is
 * connected, so the nearest connected peers are the closest known ones a kad put targets first.
 */
export async function reachedNearest(outcome: PushOutcome, count: number): Promise<boolean> {
  const n = Math.min(outcome.nearest.length, Math.max(1, Math.floor(count)))
  if (n === 0) return false
  const stored = new Set(await outcome.settled)
  return outcome.nearest.slice(0, n).every((p) => stored.has(p))
}

/**
 * The acknowledgements a store needs: `writeQuorum`, capped at the peers reachable now (when it
 * is known who is).
 */
export function requiredAcks(writeQuorum: number, peers?: { getConnectedPeers(): string[] }): number {
  const q = Math.max(0, Math.floor(writeQuorum))
  if (peers === undefined) return q
  try {
    return Math.min(q, peers.getConnectedPeers().length)
  } catch {
    return q
  }
}
