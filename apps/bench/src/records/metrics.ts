/**
 * The records bench's readers of the agents' figures, each one small function so that a renamed or
 * new counter is a one-line change here. The agents' status JSON (`/v1/status`: `storage` and
 * `replication` metrics) changes while replication and storage are reworked, so every reader is
 * defensive: a missing field reads as undefined, never throws.
 */

type Json = Record<string, unknown>

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const obj = (v: unknown): Json => (v != null && typeof v === 'object' ? (v as Json) : {})

/** The first numeric field of `o` among `names`. */
function first(o: Json, names: string[]): { name: string; value: number } | undefined {
  for (const name of names) {
    const value = num(o[name])
    if (value !== undefined) return { name, value }
  }
  return undefined
}

/**
 * Whether a writer's background work is done: storage's background tasks (the kad puts and provide
 * after the quorum) and any queue replication reports of pushes still to make.
 */
export function isIdle(status: Json): boolean {
  const storage = obj(status.storage)
  const replication = obj(status.replication)
  const busy = [
    num(storage.backgroundTasks),
    num(storage.pendingBackground),
    num(storage.queuedWrites),
    num(replication.pendingPushes),
    num(replication.pendingReplications)
  ]
  return busy.every((v) => v === undefined || v === 0)
}

/** Records this node holds for replication (pinned keys). */
export function heldRecords(status: Json): number | undefined {
  const replication = obj(status.replication)
  return first(replication, ['pinnedKeys', 'heldKeys', 'totalKeys'])?.value
}

/** Failed stores the node's storage counted (by error code), summed. */
export function storageErrors(status: Json): number {
  const errors = obj(obj(status.storage).errors)
  return Object.values(errors).reduce<number>((s, v) => s + (num(v) ?? 0), 0)
}

export interface Traffic {
  messages: number
  bytes: number | undefined
  /** Which counters were read, for the report. */
  source: string
  /** True when the messages are per-key operations, not messages (the pre-sweep code). */
  operations: boolean
  /**
   * With the sweep's counters: the closest-peers lookups of its reprovide passes so far (one per
   * region, `reprovideOperations`), which its message counters do not include.
   */
  lookups?: number
}

/**
 * Reprovide/republish traffic so far, summed over nodes: the sweep's reprovide-pass message and
 * byte counters when the node has them (its anti-entropy passes between are repair, not reprovide), else the per-key reprovide and republish operations (each one kad provide or
 * put: several messages, converted by the caller).
 */
export function reprovideTraffic(status: Json): Traffic {
  const r = obj(status.replication)
  const sweep = obj(r.sweep)
  const messages =
    first(r, ['sweepReprovideMessagesSent', 'sweepMessagesSent', 'sweepMessages', 'reprovideMessages']) ??
    first(sweep, ['messages', 'messagesSent'])
  if (messages !== undefined) {
    const bytes =
      first(r, ['sweepReprovideBytesSent', 'sweepBytesSent', 'sweepBytes', 'reprovideBytes']) ??
      first(sweep, ['bytes', 'bytesSent'])
    // the region lookups: counted by the sweep itself, else (older agents) by reprovideOperations,
    // which also counts the first provides of keys not yet placed (an upper bound)
    const counted = num(r.sweepLookups)
    const lookups =
      messages.name === 'sweepReprovideMessagesSent' ? (counted ?? num(r.reprovideOperations)) : undefined
    return {
      messages: messages.value,
      bytes: bytes?.value,
      source:
        lookups === undefined
          ? messages.name
          : `${messages.name} + ${counted !== undefined ? 'sweepLookups' : 'reprovideOperations'} (region lookups, each counted as the messages of a kad provide)`,
      operations: false,
      ...(lookups === undefined ? {} : { lookups })
    }
  }
  const ops = (num(r.reprovideOperations) ?? 0) + (num(r.republishOperations) ?? 0)
  return {
    messages: ops,
    bytes: undefined,
    source: 'reprovideOperations + republishOperations',
    operations: true
  }
}

/**
 * Repair traffic a node has sent so far: the records it pushed to holders (repairBytes) plus the
 * anti-entropy summaries' bytes when the node counts them.
 */
export function repairTraffic(status: Json): { bytes: number; messages: number; source: string } {
  const r = obj(status.replication)
  const ae = obj(r.antiEntropy)
  const pushed = num(r.repairBytes) ?? 0
  const summary =
    first(r, ['sweepBytesSent', 'antiEntropyBytes', 'summaryBytes', 'syncBytes']) ??
    first(ae, ['bytes', 'bytesSent'])
  const messages =
    (num(r.repairMessages) ?? 0) +
    (first(r, ['sweepMessagesSent', 'antiEntropyMessages', 'summaryMessages', 'syncMessages'])?.value ??
      first(ae, ['messages', 'messagesSent'])?.value ??
      0)
  return {
    bytes: pushed + (summary?.value ?? 0),
    messages,
    source: summary === undefined ? 'repairBytes' : `repairBytes + ${summary.name}`
  }
}
