import type { BackendMetrics, LatencySummary, OperationName } from './types.js'

/**
 * Operation counters and a fixed window of recent latencies for one backend. Percentiles are
 * computed on demand by sorting the window: a few thousand numbers, cheaper than keeping a
 * histogram library for a metrics call.
 */
export class BackendStats {
  operations = 0
  errors = 0
  readonly #byOperation: Partial<Record<OperationName, { operations: number; errors: number }>> = {}
  readonly #window: Float64Array
  #next = 0
  #filled = 0

  constructor(windowSize: number) {
    this.#window = new Float64Array(Math.max(1, windowSize))
  }

  record(op: OperationName, ms: number, ok: boolean): void {
    this.operations++
    let entry = this.#byOperation[op]
    if (entry === undefined) {
      entry = { operations: 0, errors: 0 }
      this.#byOperation[op] = entry
    }
    entry.operations++
    if (!ok) {
      this.errors++
      entry.errors++
    }
    this.#window[this.#next] = ms
    this.#next = (this.#next + 1) % this.#window.length
    this.#filled = Math.min(this.#filled + 1, this.#window.length)
  }

  snapshot(): BackendMetrics {
    const byOperation: BackendMetrics['byOperation'] = {}
    for (const [op, v] of Object.entries(this.#byOperation)) byOperation[op as OperationName] = { ...v }
    return { operations: this.operations, errors: this.errors, byOperation, latency: this.#latency() }
  }

  #latency(): LatencySummary {
    if (this.#filled === 0) return { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 }
    const sorted = this.#window.slice(0, this.#filled).sort()
    let sum = 0
    for (const v of sorted) sum += v
    const at = (q: number): number =>
      round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!)
    return {
      count: sorted.length,
      mean: round(sum / sorted.length),
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: round(sorted[sorted.length - 1]!)
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
