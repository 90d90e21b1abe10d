/**
 * A small bounded ring of the figures the console charts (the same numbers `/metrics` exposes),
 * sampled in the agent so a page opened later still sees the last hour; and the hybrid backend's
 * switches seen between samples (the fail-over history; the hybrid keeps only counts and times).
 */

/** One sample: time and the charted figures (null when the subsystem was not running). */
export interface MetricsSample {
  /** Epoch ms. */
  t: number
  stores: number | null
  retrieves: number | null
  cacheHits: number | null
  cacheMisses: number | null
  healthyKeys: number | null
  degradedKeys: number | null
  criticalKeys: number | null
  peers: number | null
}

/** The hybrid's active backend changing between two samples. */
export interface BackendSwitch {
  at: number
  from: string
  to: string
  mode: string
  failovers: number
  failbacks: number
}

export interface SamplerInit {
  /** The agent's numeric metrics by subsystem (`AgentService.metrics()`). */
  source: () => Record<string, unknown>
  /** Sampling period in ms. Default 5 s. */
  intervalMs?: number
  /** Samples kept. Default 720 (an hour at 5 s). */
  capacity?: number
  /** Backend switches kept. Default 100. */
  switchCapacity?: number
  now?: () => number
}

export interface MetricsSampler {
  readonly intervalMs: number
  /** Take one sample now (the timer calls this). */
  sample(): void
  samples(): MetricsSample[]
  switches(): BackendSwitch[]
  start(): void
  stop(): void
}

function num(obj: unknown, key: string): number | null {
  const v = (obj as Record<string, unknown> | undefined)?.[key]
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

function str(obj: unknown, key: string): string | undefined {
  const v = (obj as Record<string, unknown> | undefined)?.[key]
  return typeof v === 'string' ? v : undefined
}

/** Pushes onto a bounded array, dropping the oldest. */
function push<T>(list: T[], item: T, capacity: number): void {
  list.push(item)
  if (list.length > capacity) list.splice(0, list.length - capacity)
}

export function createMetricsSampler(init: SamplerInit): MetricsSampler {
  const intervalMs = init.intervalMs ?? 5_000
  const capacity = init.capacity ?? 720
  const switchCapacity = init.switchCapacity ?? 100
  const now = init.now ?? Date.now
  const ring: MetricsSample[] = []
  const switchList: BackendSwitch[] = []
  let lastBackend: string | undefined
  let timer: NodeJS.Timeout | undefined

  function sample(): void {
    let m: Record<string, unknown>
    try {
      m = init.source()
    } catch {
      return // stopping: no sample
    }
    const { storage, replication, dht, hybrid } = m as Record<string, unknown>
    const t = now()
    push(
      ring,
      {
        t,
        stores: num(storage, 'storedItems'),
        retrieves: num(storage, 'retrievedItems'),
        cacheHits: num(storage, 'cacheHits'),
        cacheMisses: num(storage, 'cacheMisses'),
        healthyKeys: num(replication, 'healthyKeys'),
        degradedKeys: num(replication, 'degradedKeys'),
        criticalKeys: num(replication, 'criticalKeys'),
        peers: num(dht, 'totalPeers')
      },
      capacity
    )
    const active = str(hybrid, 'activeBackend')
    if (active !== undefined && lastBackend !== undefined && active !== lastBackend) {
      push(
        switchList,
        {
          at: t,
          from: lastBackend,
          to: active,
          mode: str(hybrid, 'mode') ?? '',
          failovers: num(hybrid, 'failovers') ?? 0,
          failbacks: num(hybrid, 'failbacks') ?? 0
        },
        switchCapacity
      )
    }
    if (active !== undefined) lastBackend = active
  }

  return {
    intervalMs,
    sample,
    samples: () => [...ring],
    switches: () => [...switchList],
    start() {
      if (timer !== undefined) return
      sample()
      timer = setInterval(sample, intervalMs)
      timer.unref()
    },
    stop() {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    }
  }
}
