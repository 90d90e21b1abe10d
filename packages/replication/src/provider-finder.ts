/**
 * `findProviders`: answered from the provider cache first (what this node learned from earlier
 * lookups, its pushes and the replicas it received, kept `providerTTL`, 24 h), asking the DHT
 * only when the cache knows no provider of the key; a key whose last DHT lookup is older than
 * `providerTTL` is refreshed in the background. Each answer is rated (see `quality.ts`) and sorted
 * by quality, then XOR distance to the key.
 */
import { errorText, type Logger } from '@chorus/common'
import type { ReplicationCounters } from './metrics.js'
import type { PossessionVerifier } from './possession.js'
import type { ProviderCache } from './providers.js'
import { byQualityThenDistance, type QualityComponents, rateProviders } from './quality.js'
import type { ProviderInfo } from './types.js'

export interface ProviderFinderComponents {
  /** The key's providers, challenged where due (`holders`); with `network`, the DHT asked too. */
  verifier: Pick<PossessionVerifier, 'holders'>
  /** How many remote providers of the key the cache holds within `providerTTL` (`cached`). */
  providers: Pick<ProviderCache, 'cached'>
  /** What a provider's quality is made of. */
  quality: QualityComponents
  /** The manager's lifetime (background refreshes stop with it); undefined while stopped. */
  lifetime(): AbortSignal | undefined
  counters: Pick<ReplicationCounters, 'providerCacheHits'>
  log: Logger
}

export interface ProviderFinderInit {
  providerTTL: number
}

/** Keys whose last lookup time is remembered (the oldest are forgotten first). */
const MAX_TRACKED_KEYS = 10_000
/** Background refreshes at once; more stale keys wait for a later call. */
const MAX_REFRESHES = 16

export class ProviderFinder {
  private readonly components: ProviderFinderComponents
  private readonly init: ProviderFinderInit
  /** key → when the DHT was last asked for its providers. */
  private readonly lookedUp = new Map<string, number>()
  private readonly refreshing = new Map<string, Promise<void>>()

  constructor(components: ProviderFinderComponents, init: ProviderFinderInit) {
    this.components = components
    this.init = init
  }

  async find(key: string, limit: number, signal: AbortSignal): Promise<ProviderInfo[]> {
    const { verifier, providers, counters } = this.components
    let found: ProviderInfo[]
    if (providers.cached(key) === 0) {
      found = await verifier.holders(key, signal, true)
      this.looked(key)
    } else {
      counters.providerCacheHits++
      found = await verifier.holders(key, signal, false)
      const at = this.lookedUp.get(key)
      if (at == null || Date.now() - at > this.init.providerTTL) this.refresh(key)
    }
    return this.rate(key, found).sort(byQualityThenDistance).slice(0, limit)
  }

  /** Sets each provider's quality (in place, see `quality.ts`); returns the list. */
  rate(key: string, found: ProviderInfo[]): ProviderInfo[] {
    return rateProviders(this.components.quality, key, found)
  }

  /** Waits for the background refreshes (they end with the lifetime). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.refreshing.values()])
  }

  /** Forgets every lookup time (on stop). */
  clear(): void {
    this.lookedUp.clear()
  }

  private refresh(key: string): void {
    const signal = this.components.lifetime()
    if (signal == null || signal.aborted) return
    if (this.refreshing.has(key) || this.refreshing.size >= MAX_REFRESHES) return
    const run = this.components.verifier
      .holders(key, signal, true)
      .then(() => this.looked(key))
      .catch((err: unknown) =>
        this.components.log.debug({ key, err: errorText(err) }, 'replication: provider refresh failed')
      )
      .finally(() => this.refreshing.delete(key))
    this.refreshing.set(key, run)
  }

  private looked(key: string): void {
    this.lookedUp.delete(key)
    this.lookedUp.set(key, Date.now())
    while (this.lookedUp.size > MAX_TRACKED_KEYS) {
      const oldest = this.lookedUp.keys().next().value
      if (oldest === undefined) break
      this.lookedUp.delete(oldest)
    }
  }
}
