/**
 * Replication health: turns a checked provider list into a key's status, records the result on the
 * managed entry (and emits `health` when it changed). A replica counts only where the rest of the
 * network can read it: a provider that is live, proved possession and is a DHT server, and this
 * node's own pin only while it is a server itself. Copies on DHT clients (nodes behind NAT) are
 * invisible to lookups: a key held only there is short of replicas and gets repaired.
 */
import type { HealthEvent } from './api.js'
import type { ContentEntries } from './entries.js'
import type { ProviderInfo, ReplicationStatus } from './types.js'

export interface HealthComponents {
  entries: Pick<ContentEntries, 'get' | 'persist' | 'healthOf'>
  /** This node's peer id. */
  peerId: string
  /** Whether the peer (this node included) is a DHT server. */
  isServer: (peer: string) => boolean
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
    const { entries, peerId: self, isServer } = this.components
    const entry = entries.get(key)
    const isLocal = entry?.pinned === true
    const healthyProviders = providers.filter(
      (p) => p.live && p.proven && p.peerId !== self && isServer(p.peerId)
    ).length
    const actual = healthyProviders + (isLocal && isServer(self) ? 1 : 0)
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
