/**
 * The history of a run, as Jepsen keeps it: every client operation as an `invoke` and its
 * completion, `ok` (it happened), `fail` (it certainly did not) or `info` (unknown: a timeout, a
 * lost connection, a store whose quorum was not reached but which may still spread).
 */

export type OpType = 'invoke' | 'ok' | 'fail' | 'info'
export type OpKind = 'write' | 'read'

/** What a version looked like where an operation saw it (the API's record metadata). */
export interface VersionSeen {
  version: number
  /** SHA-256 of the envelope, hex (what the next version's `previous` names). */
  envelopeHash: string
  /** The previous version's envelope hash, or null for version 1. */
  previous: string | null
}

export interface Op {
  /** Position in the history. */
  index: number
  type: OpType
  kind: OpKind
  /** The client process (a new process after its session ends, as Jepsen does). */
  process: number
  /** The client that issued it (stable across sessions). */
  client: number
  /** The node the request went to. */
  node: number
  /** The agent process incarnation of that node when the operation was invoked. */
  incarnation: number
  /** Base UCXL address (latest `*^` unless `version` was asked for). */
  address: string
  /** A read of one exact version (`*~N`), when asked. */
  askedVersion?: number
  /** SHA-256 (hex) of the written value, or of the value read; null when a read found nothing. */
  digest?: string | null
  /** What the API returned about the version written or read. */
  seen?: VersionSeen
  /** ms since the run started. */
  time: number
  /** For a completion: the invocation's index. */
  invokeIndex?: number
  /** Error code or reason of a fail or info. */
  error?: string
  /** Part of the final phase (after faults stopped), not of the workload. */
  final?: boolean
}

export interface History {
  ops: Op[]
  /** Append an op; returns it with its index. */
  add(op: Omit<Op, 'index'>): Op
}

export function createHistory(): History {
  const ops: Op[] = []
  return {
    ops,
    add(op) {
      const full = { ...op, index: ops.length } as Op
      ops.push(full)
      return full
    }
  }
}
