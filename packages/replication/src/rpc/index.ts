/**
 * The replicate protocol's server: serves `/CHORUS/replicate/1.0.0`, and for each inbound request
 * refuses it while the manager is not running, decodes and bound-checks it once (the edge,
 * `parseRequest`), hands it to its handler (ping or replicate), counts and logs refusals, and
 * encodes the response.
 */
import { errorText, type Logger } from '@chorus/common'
import type { PeerMessaging } from '@chorus/dht'
import type { ReplicationCounters } from '../metrics.js'
import {
  encodeResponse,
  parseRequest,
  REQUEST_OVERHEAD_BYTES,
  type ReplicateRequest,
  type ReplicateResponse,
  refusal
} from '../protocol.js'
import { handlePing } from './handlers/ping.js'

export interface ReplicateServerComponents {
  messaging: Pick<PeerMessaging, 'handle' | 'unhandle'>
  /** Whether the manager runs (requests are refused before start and while stopping). */
  isStarted: () => boolean
  /** The replicate handler, bound to its components. */
  replicate: (req: ReplicateRequest, from: string) => Promise<ReplicateResponse>
  counters: Pick<ReplicationCounters, 'replicasRefused'>
  log: Logger
}

export interface ReplicateServerInit {
  /** The protocol id served. */
  protocol: string
  /** Largest value accepted; a larger request is refused (its stream cut at this plus overhead). */
  maxRecordBytes: number
}

export class ReplicateServer {
  private readonly components: ReplicateServerComponents
  private readonly init: ReplicateServerInit

  constructor(components: ReplicateServerComponents, init: ReplicateServerInit) {
    this.components = components
    this.init = init
  }

  async start(): Promise<void> {
    await this.components.messaging.handle(this.init.protocol, (req, from) => this.serve(req, from.id), {
      maxRequestBytes: this.init.maxRecordBytes + REQUEST_OVERHEAD_BYTES
    })
  }

  async stop(): Promise<void> {
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
    const res = await this.respond(bytes, from)
    if (!res.ok) {
      this.components.counters.replicasRefused++
      this.components.log.info({ from, code: res.code, reason: res.reason }, 'replication: refused a replica')
    }
    return encodeResponse(res)
  }

  private async respond(bytes: Uint8Array, from: string): Promise<ReplicateResponse> {
    if (!this.components.isStarted()) return refusal('NOT_ACCEPTING', 'the replication manager is stopping')
    const req = parseRequest(bytes, this.init.maxRecordBytes)
    if ('ok' in req) return req
    if (req.op === 'ping') return handlePing()
    const { op: _op, ...replicate } = req
    return this.components.replicate(replicate, from)
  }
}
