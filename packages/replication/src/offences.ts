/**
 * Offences of peers: each is counted, logged, and reported to the reputation system when the
 * node gave one (`components.reputation`, a `LibP2PDHT`'s). A failing reputation system never
 * fails the request that found the offence.
 */
import { createRefusalLog, errorText, type Logger, type RefusalLog } from '@chorus/common'
import type { ReplicationPenalty, ReplicationReputation } from './api.js'
import type { ReplicationCounters } from './metrics.js'

export interface OffencesComponents {
  reputation: ReplicationReputation | undefined
  counters: Pick<ReplicationCounters, 'penalties'>
  log: Logger
}

export class Offences {
  private readonly components: OffencesComponents
  /** One line per offence up to a rate, then a summary: a flood of offences is not a flood of lines. */
  private readonly lines: RefusalLog

  constructor(components: OffencesComponents) {
    this.components = components
    this.lines = createRefusalLog(components.log, { level: 'debug' })
  }

  penalise(peer: string, reason: ReplicationPenalty): void {
    const { reputation, counters, log } = this.components
    counters.penalties++
    this.lines.refused(reason, { peer }, 'replication: penalised a peer')
    try {
      reputation?.penalise(peer, reason)
    } catch (err) {
      log.warn({ peer, reason, err: errorText(err) }, 'replication: reputation report failed')
    }
  }
}
