/**
 * The replicate protocol's server: serves `/CHORUS/replicate/1.0.0`, and for each inbound request
 * refuses it while the manager is not running, decodes and bound-checks it once (the edge,
 * `parseRequest`; an undecodable one costs the sender `invalid-message`), takes a token from the
 * sender's bucket for its kind (pushes, proofs and the sweep's sync messages apart; over the rate
 * it is answered `BUSY` before any other work, and once a sender ignores `BUSY` past its allowance
 * it is refused as `RATE_LIMITED` and costs `flood`), hands it to its handler (ping, prove,
 * replicate or sync), counts and logs refusals, and encodes the response. Sync messages and their
 * answers are counted in the sweep's byte counters.
 *
 * `@chorus/dht`'s `handle()` already limits every protocol per peer when its reputation system
 * is on (one bucket for all of this protocol's requests, 500 a second by default, nothing without
 * reputation). These buckets are per kind and far smaller, because a push costs a validation and
 * a write and a proof a hash of up to a whole record.
 */
import { createRefusalLog, errorText, type Logger, type RefusalLog } from '@chorus/common'
import { createRateLimiter, type PeerMessaging, type RateLimiter } from '@chorus/dht'
import type { ReplicationPenalty } from '../api.js'
import type { PeerRateLimit, ReplicationConfig } from '../config.js'
import type { ReplicationCounters } from '../metrics.js'
import {
  encodeResponse,
  type ProveRequest,
  parseRequest,
  REQUEST_OVERHEAD_BYTES,
  type ReplicateRequest,
  type ReplicateResponse,
  refusal
} from '../protocol.js'
import { type SyncRequest, syncValueBytes } from '../sweep/wire.js'
import { handlePing } from './handlers/ping.js'

export interface ReplicateServerComponents {
  messaging: Pick<PeerMessaging, 'handle' | 'unhandle'>
  /** Whether the manager runs (requests are refused before start and while stopping). */
  isStarted: () => boolean
  /** The replicate handler, bound to its components. */
  replicate: (req: ReplicateRequest, from: string) => Promise<ReplicateResponse>
  /** The prove handler, bound to its components. */
  prove: (req: ProveRequest, from: string) => ReplicateResponse
  /** The sync handlers (the sweep's anti-entropy exchange), bound to their components. Absent: refused. */
  sync?: (req: SyncRequest, from: string) => Promise<ReplicateResponse> | ReplicateResponse
  /** Bytes of the value pinned for a key (what a proof hashes); 0 when none. */
  heldBytes: (key: string) => number
  /** Reports an offence of a peer. */
  penalise: (peer: string, reason: ReplicationPenalty) => void
  counters: Pick<
    ReplicationCounters,
    'replicasRefused' | 'sweepMessagesReceived' | 'sweepBytesReceived' | 'sweepBytesSent'
  >
  log: Logger
}

export interface ReplicateServerInit
  extends Pick<ReplicationConfig, 'pushRateLimit' | 'proveRateLimit' | 'byteRateLimit' | 'syncRateLimit'> {
  /** The protocol id served. */
  protocol: string
  /** Largest value accepted; a larger request is refused (its stream cut at this plus overhead). */
  maxRecordBytes: number
}

/**
 * A per-peer budget in two parts: the configured rate, and an allowance of requests answered
 * `BUSY` over it (half the burst, refilled at half the rate). An honest sender storing fast is
 * slowed down without a charge: it waits out each `BUSY` (the pusher does) and stays within the
 * allowance. A sender that ignores `BUSY` and keeps pushing spends the allowance and is a flood:
 * `RATE_LIMITED` and a `flood` penalty.
 */
class TieredLimit {
  private readonly nominal: RateLimiter
  private readonly busy: RateLimiter
  constructor(limit: PeerRateLimit) {
    this.nominal = createRateLimiter(limit)
    this.busy = createRateLimiter({
      burst: Math.max(1, limit.burst / 2),
      ratePerSecond: limit.ratePerSecond / 2
    })
  }
  /** `ok` within the rate, `busy` over it, `flood` once the busy allowance is spent. */
  take(peer: string, cost = 1): 'ok' | 'busy' | 'flood' {
    if (this.nominal.tryTake(peer, cost)) return 'ok'
    return this.busy.tryTake(peer, cost) ? 'busy' : 'flood'
  }
  clear(): void {
    this.nominal.clear()
    this.busy.clear()
  }
}

export class ReplicateServer {
  private readonly components: ReplicateServerComponents
  private readonly init: ReplicateServerInit
  private readonly pushes: TieredLimit
  private readonly proofs: TieredLimit
  private readonly syncs: TieredLimit
  /** Bytes per peer: pushed values and values hashed for proofs. */
  private readonly bytes: TieredLimit
  /** Refusals logged at a bounded rate and size (a flood of them is one summary line). */
  private readonly refusals: RefusalLog

  constructor(components: ReplicateServerComponents, init: ReplicateServerInit) {
    this.components = components
    this.init = init
    this.pushes = new TieredLimit(init.pushRateLimit)
    this.proofs = new TieredLimit(init.proveRateLimit)
    this.syncs = new TieredLimit(init.syncRateLimit)
    this.bytes = new TieredLimit(init.byteRateLimit)
    this.refusals = createRefusalLog(components.log)
  }

  async start(): Promise<void> {
    await this.components.messaging.handle(this.init.protocol, (req, from) => this.serve(req, from.id), {
      maxRequestBytes: this.init.maxRecordBytes + REQUEST_OVERHEAD_BYTES
    })
  }

  async stop(): Promise<void> {
    this.pushes.clear()
    this.proofs.clear()
    this.syncs.clear()
    this.bytes.clear()
    this.refusals.stop()
    try {
      await this.components.messaging.unhandle(this.init.protocol)
    } catch (err) {
      this.components.log.debug(
        { err: errorText(err) },
        'replication: unhandle failed (node already closed?)'
      )
    }
  }

  /** One request in, one response out. */
  async serve(bytes: Uint8Array, from: string): Promise<Uint8Array> {
    const sync = { seen: false }
    const res = await this.respond(bytes, from, sync)
    if (!res.ok) {
      this.components.counters.replicasRefused++
      this.refusals.refused(res.code, { from }, 'replication: refused a request')
    }
    const out = encodeResponse(res)
    if (sync.seen) {
      const c = this.components.counters
      c.sweepMessagesReceived++
      c.sweepBytesReceived += bytes.byteLength
      c.sweepBytesSent += out.byteLength
    }
    return out
  }

  private async respond(
    bytes: Uint8Array,
    from: string,
    sync: { seen: boolean }
  ): Promise<ReplicateResponse> {
    if (!this.components.isStarted()) return refusal('NOT_ACCEPTING')
    const req = parseRequest(bytes, this.init.maxRecordBytes)
    if ('ok' in req) {
      // a request that does not decode is an offence; one over this node's size limit is not
      // (another node may be configured with a larger limit)
      if (req.code === 'MALFORMED_REQUEST') this.components.penalise(from, 'invalid-message')
      return req
    }
    if (req.op === 'ping') return handlePing()
    if (req.op === 'sync' || req.op === 'sync-leaves' || req.op === 'sync-records') {
      sync.seen = true
      const over = this.admit(from, this.syncs, syncValueBytes(req))
      if (over !== undefined) return over
      return this.components.sync?.(req, from) ?? refusal('NOT_ACCEPTING')
    }
    const bucket = req.op === 'prove' ? this.proofs : this.pushes
    const cost = req.op === 'prove' ? this.components.heldBytes(req.key) : req.value.byteLength
    const over = this.admit(from, bucket, cost)
    if (over !== undefined) return over
    if (req.op === 'prove') return this.components.prove(req, from)
    const { op: _op, ...replicate } = req
    return this.components.replicate(replicate, from)
  }

  /** Takes one request and its bytes from the peer's budgets: the refusal when over them, else undefined. */
  private admit(from: string, requests: TieredLimit, bytes: number): ReplicateResponse | undefined {
    const r = requests.take(from)
    // a request not served (BUSY, or a flood) takes nothing from the byte budget
    const b = r !== 'ok' || bytes <= 0 ? 'ok' : this.bytes.take(from, bytes)
    if (r === 'flood' || b === 'flood') {
      this.components.penalise(from, 'flood')
      return refusal('RATE_LIMITED')
    }
    return r === 'busy' || b === 'busy' ? refusal('BUSY') : undefined
  }
}
