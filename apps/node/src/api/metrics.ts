import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export interface APIMetrics {
  registry: Registry
  requests: Counter<'method' | 'route' | 'status'>
  duration: Histogram<'method' | 'route'>
  /** Refresh the gauges that mirror the subsystems' own metrics, then render the text format. */
  render(): Promise<string>
}

function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase()
}

/** Flatten an object's numeric (and boolean) leaves into `a_b_c` -> number. */
export function numericLeaves(
  obj: unknown,
  prefix = '',
  out = new Map<string, number>()
): Map<string, number> {
  if (obj === null || obj === undefined) return out
  if (typeof obj === 'number' && Number.isFinite(obj)) out.set(prefix, obj)
  else if (typeof obj === 'bigint') out.set(prefix, Number(obj))
  else if (typeof obj === 'boolean') out.set(prefix, obj ? 1 : 0)
  else if (obj instanceof Date) out.set(prefix, obj.getTime() / 1000)
  else if (typeof obj === 'object' && !Array.isArray(obj) && !(obj instanceof Map)) {
    for (const [k, v] of Object.entries(obj))
      numericLeaves(v, prefix === '' ? snake(k) : `${prefix}_${snake(k)}`, out)
  } else if (Array.isArray(obj) && prefix !== '') out.set(`${prefix}_count`, obj.length)
  return out
}

/**
 * The Prometheus registry of one agent: process metrics (prom-client's defaults), HTTP request
 * metrics, and one gauge per numeric field of each subsystem's `getMetrics()` (named
 * `chorus_<subsystem>_<field>`), read at scrape time so they never go stale.
 */
export function createAPIMetrics(source: () => Record<string, unknown>): APIMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'chorus_node_' })
  const requests = new Counter({
    name: 'chorus_api_requests_total',
    help: 'HTTP API requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry]
  })
  const duration = new Histogram({
    name: 'chorus_api_request_duration_seconds',
    help: 'HTTP API request duration',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry]
  })
  const gauges = new Map<string, Gauge>()

  async function render(): Promise<string> {
    let subsystems: Record<string, unknown> = {}
    try {
      subsystems = source()
    } catch {
      // A subsystem that cannot report (stopping) must not break the scrape.
    }
    for (const [subsystem, metrics] of Object.entries(subsystems)) {
      for (const [field, value] of numericLeaves(metrics)) {
        if (field === '') continue
        const name = `chorus_${snake(subsystem)}_${field}`.replace(/__+/g, '_')
        let g = gauges.get(name)
        if (g === undefined) {
          g = new Gauge({ name, help: `${subsystem} ${field.replace(/_/g, ' ')}`, registers: [registry] })
          gauges.set(name, g)
        }
        g.set(value)
      }
    }
    return registry.metrics()
  }

  return { registry, requests, duration, render }
}
