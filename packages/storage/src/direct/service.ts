import type { DHT, Logger, PeerMessaging } from '@chorus/dht'
import type { WriteAuthority } from '../record-check.js'
import { MAX_REQUEST_BYTES, RECORD_PROTOCOL } from './protocol.js'
import { recordHandler } from './server.js'

export interface RecordProtocolComponents {
  /** This node's record store, which the handlers read and write. */
  dht: Pick<DHT, 'getValues' | 'putValue' | 'noteProviders'>
  /** This node's peer id: it holds what it stored, so it notes itself as a provider too. */
  selfId?: string
  /** Told of every record a push stored (see `RecordHandlerOptions.onStored`). */
  onStored?: (key: string, value: Uint8Array, from: string) => void
  /** Where the protocol is served; without it, nothing is. */
  messaging?: Pick<PeerMessaging, 'handle' | 'unhandle'>
  logger?: Logger
  /** The team's write rule, run on every record pushed or served (team mode). Default: none. */
  authority?: WriteAuthority
}

/** Serves the direct record protocol from start to stop. */
export class RecordProtocolService {
  readonly #c: RecordProtocolComponents

  constructor(components: RecordProtocolComponents) {
    this.#c = components
  }

  async start(): Promise<void> {
    await this.#c.messaging?.handle(
      RECORD_PROTOCOL,
      recordHandler(this.#c.dht, {
        logger: this.#c.logger,
        authority: this.#c.authority,
        ...(this.#c.selfId !== undefined ? { selfId: this.#c.selfId } : {}),
        ...(this.#c.onStored !== undefined ? { onStored: this.#c.onStored } : {})
      }),
      {
        maxRequestBytes: MAX_REQUEST_BYTES
      }
    )
  }

  async stop(): Promise<void> {
    await this.#c.messaging?.unhandle(RECORD_PROTOCOL).catch(() => undefined)
  }
}
