/** The records benchmark's results (bench-results JSON, `details.records`). */

export interface RecordsSizeResult {
  /** Records the network holds after this step (cumulative). */
  records: number
  /** Records written in this step. */
  written: number
  /** Stores of this step per second, timed until the writer's background work was idle. */
  storesPerSecond: number
  /** The same stores per second as the writer saw them return (at write quorum). */
  storesPerSecondAtQuorum: number
  failures: number
  /** Failure messages with their counts (the first few kinds). */
  errors: Record<string, number>
  /** RSS of every node process after the step, before the restart. */
  rss: Array<{ node: string; bytes: number }>
  /** The node restarted on its own data directory and the time until its `/v1/status` said ready. */
  restart: { node: string; readyMs: number } | { node: string; error: string }
}

export interface ReprovideResult {
  /** The agents' reprovide interval and the window observed (one interval). */
  intervalMs: number
  windowMs: number
  /** Keys held (versions and heads), summed over the nodes (each holder reprovides what it holds). */
  heldKeys: number
  /** Messages the nodes sent for reprovide/republish in the window (converted from operations when `operations`). */
  messages: number
  bytes: number | undefined
  source: string
  /** The counters were per-key operations (pre-sweep code), converted at the measured messages per provide. */
  operations: boolean
  /** Baseline: per-key kad provides of every held record, at the measured messages per provide. */
  perKeyProvideMessages: number
  /**
   * Bytes all agents sent on their TCP sockets in the window (`ss`): every protocol (repair checks,
   * pings, discovery, the bench's status calls too), so an upper bound of the reprovide's bytes.
   */
  socketBytesSent?: number
}

export interface RepairResult {
  node: string
  /** Keys it held for replication before its data directory was wiped (its status), the refill's target. */
  heldBefore: number
  /** Values and their bytes it held (its replication database). */
  lostValues: number
  lostBytes: number
  /** How the lost bytes were read (its replication database, or an estimate). */
  lostSource: string
  /**
   * Of the values lost, those it should hold (it is among the factor peers closest to the key)
   * and their bytes: the refill's goal. A copy beyond the factor (a hedged push's spare) is not
   * brought back. NaN when unknown (the goal is then `heldBefore`).
   */
  targetValues: number
  targetBytes: number
  /** Keys it held when the refill ended. */
  heldAfter: number
  refilled: boolean
  ms: number
  /** Repair bytes the other nodes sent (their replication counters: pushed records + summaries). */
  sentBytes: number
  sentMessages: number
  source: string
  /** Bytes received on the node's TCP sockets over the refill (every protocol; an upper bound). */
  socketBytesReceived: number | undefined
}

export interface ReadCheck {
  /** Reads made: every record from every agent. */
  checked: number
  ok: number
  failed: number
  errors: Record<string, number>
  nodes: number
  ms: number
}

export interface RecordsRun {
  via: 'http' | 'library'
  sizes: RecordsSizeResult[]
  reprovide?: ReprovideResult
  repair?: RepairResult
  readable?: ReadCheck
  /** Set when the run stopped early. */
  error?: string
  /** Set when the library writer's process exited before the end of the run (its exit code or signal). */
  writerExited?: string
}

export interface RawBaseline {
  puts: number
  concurrency: number
  perSecond: number
  failed: number
  /** Messages (kad SEND_QUERY events) of one kad provide, over a sample of keys. */
  provideSamples: number
  messagesPerProvide: number
}

export type RecordsResult =
  | {
      available: true
      layout: string
      recordBytes: number
      concurrency: number
      sizes: number[]
      raw?: RawBaseline
      rawError?: string
      runs: RecordsRun[]
      notes: string[]
      durationMs: number
    }
  | { available: false; reason: string }
