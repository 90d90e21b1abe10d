import type { Logger } from '@chorus/common'
import { sortByDistance } from '@chorus/dht'
import type { DirectClient } from '../direct/client.js'
import type { DirectRecord } from '../direct/protocol.js'

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
   * Pushes to the quorum plus two spares at once, the next nearest for each one that fails (peers
   * without the protocol, say), up to three times the quorum. Resolves with the peers that stored
   * the records once `required` have, or all answered.
   */
  push(key: string, records: DirectRecord[], required: number): Promise<string[]> {
    const direct = this.#c.direct
    if (direct === undefined || !this.#init.enabled || required === 0) return Promise.resolve([])
    const queue = sortByDistance(key, direct.getConnectedPeers(), { dropUndecodable: true }).slice(
      0,
      required * 3 + 2
    )
    if (queue.length === 0) return Promise.resolve([])
    const signal = AbortSignal.any([this.#c.background.signal, AbortSignal.timeout(this.#init.directTimeout)])
    return new Promise((resolve) => {
      const acked: string[] = []
      let running = 0
      let done = false
      const finish = (): void => {
        if (!done && (acked.length >= required || (running === 0 && queue.length === 0))) {
          done = true
          resolve([...acked])
        }
      }
      const next = (): void => {
        const peer = queue.shift()
        if (peer === undefined) return
        running++
        const p = direct.client
          .push(peer, records, signal)
          .then((answer) => {
            if (answer.ok) {
              acked.push(peer)
              return
            }
            this.#c.logger?.debug({ peer, code: answer.code }, 'a peer refused the pushed records')
            if (!done) next()
          })
          .catch((err: unknown) => {
            this.#c.logger?.debug({ peer, err: (err as Error).message }, 'direct push failed')
            if (!done) next()
          })
          .finally(() => {
            running--
            finish()
          })
        this.#c.background.track(p)
      }
      for (let i = 0; i < required + 2; i++) next()
      finish()
    })
  }
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
