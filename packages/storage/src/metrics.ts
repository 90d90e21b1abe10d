import type { StorageMetrics } from './types.js'

/** The counters behind `getMetrics()`; every component that counts gets this object. */
export class StorageCounters {
  storedItems = 0
  retrievedItems = 0
  cacheHits = 0
  cacheMisses = 0
  encryptionOps = 0
  decryptionOps = 0
  storeTime = 0
  retrieveTime = 0
  backpressureWaits = 0
  readonly errors: Record<string, number> = {}
  lastUpdate = Date.now()

  /** Counts a failed operation by its code. */
  failed(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1
  }

  /** The counters with the gauges the facade reads from its components. */
  snapshot(
    gauges: Pick<
      StorageMetrics,
      'backgroundTasks' | 'cacheSize' | 'cacheBytes' | 'verifiedRecords' | 'indexedVersions'
    >
  ): StorageMetrics {
    return {
      storedItems: this.storedItems,
      retrievedItems: this.retrievedItems,
      cacheHits: this.cacheHits,
      cacheMisses: this.cacheMisses,
      encryptionOps: this.encryptionOps,
      decryptionOps: this.decryptionOps,
      averageStoreTime: this.storedItems === 0 ? 0 : this.storeTime / this.storedItems,
      averageRetrieveTime: this.retrievedItems === 0 ? 0 : this.retrieveTime / this.retrievedItems,
      errors: { ...this.errors },
      backgroundTasks: gauges.backgroundTasks,
      backpressureWaits: this.backpressureWaits,
      cacheSize: gauges.cacheSize,
      cacheBytes: gauges.cacheBytes,
      verifiedRecords: gauges.verifiedRecords,
      indexedVersions: gauges.indexedVersions,
      lastUpdate: this.lastUpdate
    }
  }
}
