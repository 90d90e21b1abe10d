/**
 * Offences of peers: each is counted, logged, and reported to the reputation system when the
 * node gave one (`components.reputation`, a `LibP2PDHT`'s). A failing reputation system never
 * fails the request that found the offence.
 */
import { errorText, type Logger } from '@chorus/common'
import type { ReplicationPenalty, ReplicationReputation } from './api.js'
import type { ReplicationCounters } from './metrics.js'

export interface OffencesComponents {
  reputation: ReplicationReputation | undefined
  counters: Pick<ReplicationCounters, 'penalties'>
  log: Logger
}

export class Offences {
  private readonly components: OffencesComponents

  constructor(components: OffencesComponents) {
    this.components = components
  }

  penalise(peer: string, reason: ReplicationPenalty): void {
    const { reputation, counters, log } = this.components
    counters.penalties++
    log.debug({ peer, reason }, 'replication: penalised a peer')
    try {
      reputation?.penalise(peer, reason)
    } catch (err) {
      log.warn({ peer, reason, err: errorText(err) }, 'replication: reputation report failed')
    }
  }
}
