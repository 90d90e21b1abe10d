/**
 * The options of `createHybridDHT`, their defaults, and their validation (once, at construction).
 */
import { HybridConfigError } from './errors.js'
import type { HealthProbe } from './probe.js'
import type { BackendMode } from './types.js'

export interface HybridDHTInit {
  /**
   * Directory of the write journal (`hybrid-journal.sqlite`); created when missing. Without it the
   * journal lives in memory and writes not yet on the network are lost with the process.
   * @default undefined (in memory, with a warning)
   */
  dataDir?: string
  /**
   * Consecutive failures (errors or timeouts) of the primary that make it `failed` and fail over.
   * @default 3
   */
  failureThreshold?: number
  /**
   * Consecutive successes (probes or operations) that take a `failed` primary back to `healthy`.
   * @default 2
   */
  recoveryThreshold?: number
  /**
   * Interval of the active health probe of the primary, in ms; 0 disables probing (then only
   * `probe()` and, in `real` mode, operations can recover the primary).
   * @default 5_000
   */
  probeInterval?: number
  /**
   * Time limit of one probe, in ms.
   * @default operationTimeout
   */
  probeTimeout?: number
  /**
   * Time limit of one operation on a backend, in ms: a primary that takes longer counts as failed
   * for that operation (the hybrid falls back; a put is journaled), and a hung backend cannot hold
   * a caller longer.
   * @default 10_000
   */
  operationTimeout?: number
  /**
   * The health probe: `(primary, { signal }) => Promise<void>`, resolves when the primary is usable.
   * @default closestPeersProbe (a closest-peers lookup must return a peer)
   */
  probe?: HealthProbe
  /**
   * Journal entries replayed to the primary at once (distinct keys, started in journal order).
   * @default 8
   */
  replayConcurrency?: number
  /**
   * Backend mode at start: `'auto'` lets health decide, `'real'` or `'mock'` pin a backend.
   * @default 'auto'
   */
  mode?: BackendMode
  /**
   * Operations per backend kept for the latency percentiles.
   * @default 1024
   */
  latencyWindow?: number
  /**
   * SQLite `synchronous` of the journal: `'normal'` survives a process crash, `'full'` fsyncs every
   * write and survives power loss too.
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full'
}

/** The defaults of {@link HybridDHTInit} (`dataDir`, `probeTimeout` and `probe` are derived or absent). */
export const hybridDefaults = Object.freeze({
  failureThreshold: 3,
  recoveryThreshold: 2,
  probeInterval: 5_000,
  operationTimeout: 10_000,
  replayConcurrency: 8,
  mode: 'auto' as BackendMode,
  latencyWindow: 1024,
  synchronous: 'normal' as 'normal' | 'full'
})

/** {@link HybridDHTInit} validated, with every default applied (`probe` and `dataDir` stay optional). */
export interface ResolvedHybridInit {
  dataDir: string | undefined
  failureThreshold: number
  recoveryThreshold: number
  probeInterval: number
  probeTimeout: number
  operationTimeout: number
  probe: HealthProbe | undefined
  replayConcurrency: number
  mode: BackendMode
  latencyWindow: number
  synchronous: 'normal' | 'full'
}

const MODES: readonly BackendMode[] = ['auto', 'mock', 'real']

/** Validates `init` and applies the defaults; throws `HybridConfigError` for an unusable option. */
export function resolveInit(init: HybridDHTInit): ResolvedHybridInit {
  const d = hybridDefaults
  const operationTimeout = positive('operationTimeout', init.operationTimeout, d.operationTimeout)
  return {
    dataDir: init.dataDir,
    failureThreshold: positiveInt('failureThreshold', init.failureThreshold, d.failureThreshold),
    recoveryThreshold: positiveInt('recoveryThreshold', init.recoveryThreshold, d.recoveryThreshold),
    probeInterval: nonNegative('probeInterval', init.probeInterval, d.probeInterval),
    operationTimeout,
    replayConcurrency: positiveInt('replayConcurrency', init.replayConcurrency, d.replayConcurrency),
    latencyWindow: positiveInt('latencyWindow', init.latencyWindow, d.latencyWindow),
    probeTimeout: positive('probeTimeout', init.probeTimeout, operationTimeout),
    mode: checkMode(init.mode ?? d.mode),
    probe: init.probe,
    synchronous: init.synchronous ?? d.synchronous
  }
}

/** `mode` if it is a backend mode; else throws `HybridConfigError`. */
export function checkMode(mode: unknown): BackendMode {
  if (!MODES.includes(mode as BackendMode)) {
    throw new HybridConfigError(`backend mode must be one of ${MODES.join(', ')}; got ${String(mode)}`)
  }
  return mode as BackendMode
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new HybridConfigError(`${name} must be a positive number of ms; got ${String(value)}`)
  }
  return value
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HybridConfigError(`${name} must be 0 or a positive number of ms; got ${String(value)}`)
  }
  return value
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) {
    throw new HybridConfigError(`${name} must be an integer >= 1; got ${String(value)}`)
  }
  return value
}
