/**
 * Replication health: turns a checked provider list into a key's status (only providers that are
 * live and proved possession count), records the result on the managed entry (and emits `health`
 * when it changed).
 */
import type { HealthEvent } from './api.js'
import type { ContentEntries } from './entries.js'
import type { ProviderInfo, ReplicationStatus } from './types.js'

export interface HealthComponents {
  entries: Pick<ContentEntries, 'get' | 'persist' | 'healthOf'>
  /** This node's peer id. */
  peerId: string
  emitHealth: (event: HealthEvent) => void
}

export interface HealthInit {
  replicationFactor: number
}

export class HealthTracker {
  private readonly components: HealthComponents
  private readonly init: HealthInit

  constructor(components: HealthComponents, init: HealthInit) {
    this.components = components
    this.init = init
  }

  /** Live holders, health and providers of the key; the managed entry (if any) remembers the check. */
  status(key: string, providers: ProviderInfo[]): ReplicationStatus {
    const { entries, peerId: self } = this.components
    const entry = entries.get(key)
    const isLocal = entry?.pinned === true
    const healthyProviders = providers.filter((p) => p.live && p.proven && p.peerId !== self).length
    const actual = healthyProviders + (isLocal ? 1 : 0)
    const health = entries.healthOf(actual)
    if (entry != null) {
      if (entry.lastHealth !== health) {
        this.components.emitHealth({
          key,
          health,
          actualReplicas: actual,
          targetReplicas: this.init.replicationFactor
        })
      }
      entry.lastChecked = Date.now()
      entry.lastActual = actual
      entry.lastHealth = health
      entries.persist(entry)
    }
    return {
      key,
      targetReplicas: this.init.replicationFactor,
      actualReplicas: actual,
      healthyProviders,
      lastReprovided: entry?.lastReprovided == null ? undefined : new Date(entry.lastReprovided),
      createdAt: entry == null ? undefined : new Date(entry.createdAt),
      size: entry?.size ?? 0,
      priority: entry?.priority ?? 0,
      health,
      isLocal,
      providers
    }
  }
}
