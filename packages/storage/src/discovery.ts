import type { DHT } from '@chorus/dht'
import { headKey, type ResolvedAddress } from './address.js'
import type { AuditInput } from './audit.js'
import type { AuditedOperations } from './audited.js'
import { isDHTNotFound, isNoPeersAcknowledged } from './error-mapping.js'
import { AnnounceNotAcknowledgedError } from './errors.js'
import { withinLimit } from './operation.js'
import type { AnnounceResult } from './types.js'

export interface DiscoveryComponents {
  dht: Pick<DHT, 'provide' | 'findProviders'>
  operations: Pick<AuditedOperations, 'run'>
  /** Resolves an address for content (no wildcard), noting it in the audit entry. */
  resolve(address: string, entry: AuditInput): ResolvedAddress
  /** Aborts at shutdown. */
  shutdown: { readonly signal: AbortSignal }
}

export interface DiscoveryInit {
  /** Time one announce or discover may take, in ms. */
  announceTimeout: number
}

/** Announces this node as a provider of an address's head key, and finds who provides it. */
export class ContentDiscovery {
  readonly #c: DiscoveryComponents
  readonly #init: DiscoveryInit

  constructor(components: DiscoveryComponents, init: DiscoveryInit) {
    this.#c = components
    this.#init = init
  }

  /**
   * The audited `announceContent`: the peers that acknowledged the provide, recorded in the audit
   * entry (`peers`); none, `AnnounceNotAcknowledgedError` (the entry records the failure).
   */
  announce(address: string, signal?: AbortSignal): Promise<AnnounceResult> {
    const entry: AuditInput = { op: 'announce', address: String(address), success: false, peers: 0 }
    return this.#c.operations.run(entry, {}, async () => {
      const r = this.#c.resolve(address, entry)
      let peers: string[]
      try {
        const result = await this.within('announce', r, signal, (s) =>
          this.#c.dht.provide(headKey(r.digest), { signal: s })
        )
        peers = [...new Set(result.peers)]
      } catch (err) {
        if (isNoPeersAcknowledged(err)) throw new AnnounceNotAcknowledgedError(r.base, { cause: err })
        throw err
      }
      // a HybridDHT journals an announcement no peer took and reports none: not reached either
      if (peers.length === 0) throw new AnnounceNotAcknowledgedError(r.base)
      entry.peers = peers.length
      return { peers }
    })
  }

  /** The audited `discoverContentPeers`: every provider's id, once. */
  discover(address: string, signal?: AbortSignal): Promise<string[]> {
    const entry: AuditInput = { op: 'discover', address: String(address), success: false }
    return this.#c.operations.run(entry, {}, async () => {
      const r = this.#c.resolve(address, entry)
      const providers = await this.within('discover', r, signal, async (s) => {
        try {
          return await this.#c.dht.findProviders(headKey(r.digest), { signal: s })
        } catch (err) {
          if (isDHTNotFound(err)) return []
          throw err
        }
      })
      return [...new Set(providers.map((p) => p.id))]
    })
  }

  private within<T>(
    what: string,
    r: ResolvedAddress,
    signal: AbortSignal | undefined,
    fn: (s: AbortSignal) => Promise<T>
  ) {
    return withinLimit(
      {
        ms: this.#init.announceTimeout,
        operation: `${what} of ${r.base}`,
        signal,
        shutdown: this.#c.shutdown.signal
      },
      fn
    )
  }
}
