/** The sweep's counters, part of `ReplicationMetrics` (and so of the agent's `/metrics`). */

export interface SweepMetrics {
  /** Regions swept, and full passes over the held keys. */
  sweepRegions: number
  sweepPasses: number
  /** Sync requests this node sent (summaries, leaf lists, record batches). */
  sweepMessagesSent: number
  /**
   * Of those, the ones sent on reprovide passes (the passes that look up each region's closest
   * peers, one per `reprovideInterval`), and their bytes (requests and answers): the reprovide's own traffic, without the
   * anti-entropy passes between.
   */
  sweepReprovideMessagesSent: number
  sweepReprovideBytesSent: number
  /**
   * Closest-peers lookups the reprovide passes made (one per region that held keys): each is a kad
   * query whose messages the counters above do not include.
   */
  sweepLookups: number
  /** Sync requests this node answered. */
  sweepMessagesReceived: number
  /** Bytes of sweep traffic this node wrote: its sync requests and its answers to others'. */
  sweepBytesSent: number
  /** Bytes of sweep traffic this node read: others' sync requests and the answers to its own. */
  sweepBytesReceived: number
  /** Keys whose holders a matching summary confirmed (receiver side; the reprovide). */
  sweepKeysConfirmed: number
  /** Records (and their value bytes) the anti-entropy repair sent, and accepted from peers. */
  sweepRecordsSent: number
  sweepRecordBytesSent: number
  sweepRecordsReceived: number
  sweepRecordBytesReceived: number
  /**
   * Records peers refused for more than being stale (their quota, their disk), and summaries
   * after which a region's records were held back for it (`sweep/refusals.ts`).
   */
  sweepRecordsRefused: number
  sweepRegionsHeldBack: number
  /** Of the last completed pass: regions, sync requests sent, and sweep bytes sent plus received. */
  sweepLastPassRegions: number
  sweepLastPassMessages: number
  sweepLastPassBytes: number
}

export function createSweepCounters(): SweepMetrics {
  return {
    sweepRegions: 0,
    sweepPasses: 0,
    sweepMessagesSent: 0,
    sweepReprovideMessagesSent: 0,
    sweepReprovideBytesSent: 0,
    sweepLookups: 0,
    sweepMessagesReceived: 0,
    sweepBytesSent: 0,
    sweepBytesReceived: 0,
    sweepKeysConfirmed: 0,
    sweepRecordsSent: 0,
    sweepRecordBytesSent: 0,
    sweepRecordsReceived: 0,
    sweepRecordBytesReceived: 0,
    sweepRecordsRefused: 0,
    sweepRegionsHeldBack: 0,
    sweepLastPassRegions: 0,
    sweepLastPassMessages: 0,
    sweepLastPassBytes: 0
  }
}
