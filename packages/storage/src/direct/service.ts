import type { DHT, Logger, PeerMessaging } from '@chorus/dht'
import { MAX_REQUEST_BYTES, RECORD_PROTOCOL } from './protocol.js'
import { recordHandler } from './server.js'

export interface RecordProtocolComponents {
  /** This node's record store, which the handlers read and write. */
  dht: Pick<DHT, 'getValues' | 'putValue'>
  /** Where the protocol is served; without it, nothing is. */
  messaging?: Pick<PeerMessaging, 'handle' | 'unhandle'>
  logger?: Logger
}

/** Serves the direct record protocol from start to stop. */
export class RecordProtocolService {
  readonly #c: RecordProtocolComponents

  constructor(components: RecordProtocolComponents) {
    this.#c = components
  }

  async start(): Promise<void> {
    await this.#c.messaging?.handle(RECORD_PROTOCOL, recordHandler(this.#c.dht, this.#c.logger), {
      maxRequestBytes: MAX_REQUEST_BYTES
    })
  }

  async stop(): Promise<void> {
    await this.#c.messaging?.unhandle(RECORD_PROTOCOL).catch(() => undefined)
  }
}
