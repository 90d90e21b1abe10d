import type { Summary } from '../stats.js'

/** Operations per second at one concurrency (operations in flight at once). */
export interface Throughput {
  concurrency: number
  storePerSecond: number
  /** Stores per second counted until their background work (remaining kad puts, provide) finished. */
  storeDrainedPerSecond?: number
  retrievePerSecond: number
}

export interface SystemSizeResult {
  nodes: number
  /** Latencies in milliseconds. */
  /** Store as the caller sees it: returns at write quorum, the rest goes on in the background. */
  store: Summary
  /** The same stores timed until their background work had finished too (storage whenIdle()). */
  storeUntilIdle?: Summary
  retrieveCold: Summary
  retrieveCached: Summary
  /** Baselines on a raw @libp2p/kad-dht network of the same size, same run. */
  rawPut?: Summary
  rawGet?: Summary
  throughput: Throughput[]
  /** Process RSS growth while the network ran, divided by the nodes (all share one process). */
  rssBytesPerNode: number
  /** V8 heap + external memory growth while the network ran, divided by the nodes (after GC). */
  heapBytesPerNode?: number
  /** The process RSS with the network running. */
  rssBytesTotal?: number
  /** process.cpuUsage (user + system) per operation, in milliseconds, for the whole process. */
  cpuMsPerOp: {
    store: number
    retrieveCold: number
    retrieveCached: number
    rawPut?: number
    rawGet?: number
  }
  /** Storage-layer acknowledgements per store (mean). */
  acksPerStore?: number
  errors: string[]
}

export type SystemResult =
  | {
      available: true
      /** How the nodes run, e.g. 'all nodes in one process'. */
      layout: string
      contentBytes: number
      sizes: SystemSizeResult[]
      notes: string[]
    }
  | { available: false; reason: string }
