/**
 * The one place that decides what a backend's failure means for an operation (as helia's
 * `routing.ts` does for its routers): which errors pass straight to the caller, which mean "not
 * there, ask the next backend", which are a failure to remember, and what to throw when no
 * backend had the answer.
 */
import { dhtNotFound } from '@chorus/dht'
import { isInvalid, isNotFound } from './classify.js'
import { BackendsUnavailableError } from './errors.js'
import type { BackendName } from './types.js'

/**
 * What a backend's error is to the hybrid:
 * - `invalid`: the record or key is bad; no backend will take it;
 * - `aborted`: the caller aborted;
 * - `shutdown`: the hybrid is stopping;
 * - `not-found`: the backend answered "nothing here" (a healthy answer);
 * - `failure`: the backend could not answer (error, timeout).
 */
export type ErrorKind = 'invalid' | 'aborted' | 'shutdown' | 'not-found' | 'failure'

/** The kind of `err`, thrown by a call made with the caller's `signal` during `lifetime`. */
export function errorKind(err: unknown, signal: AbortSignal | undefined, lifetime: AbortSignal): ErrorKind {
  if (isInvalid(err)) return 'invalid'
  if (signal?.aborted === true) return 'aborted'
  if (lifetime.aborted) return 'shutdown'
  if (isNotFound(err)) return 'not-found'
  return 'failure'
}

/** The outcome of one backend call that did not throw past {@link attempt}. */
export type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; kind: Exclude<ErrorKind, 'invalid'>; error: unknown }

export interface AttemptOptions {
  /** The caller's signal. */
  signal?: AbortSignal | undefined
  /** The hybrid's lifetime. */
  lifetime: AbortSignal
  /**
   * Error kinds re-thrown to the caller as they are. `invalid` is always re-thrown.
   * @default ['aborted']
   */
  passThrough?: readonly ErrorKind[]
}

const DEFAULT_PASS_THROUGH: readonly ErrorKind[] = ['aborted']

/** Runs `call`; re-throws an invalid record or key and the kinds in `passThrough`, returns the rest. */
export async function attempt<T>(call: () => Promise<T>, options: AttemptOptions): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await call() }
  } catch (error) {
    const kind = errorKind(error, options.signal, options.lifetime)
    if (kind === 'invalid' || (options.passThrough ?? DEFAULT_PASS_THROUGH).includes(kind)) throw error
    return { ok: false, kind: kind as Exclude<ErrorKind, 'invalid'>, error }
  }
}

/** The value of `outcome`, or `fallback` when the backend had none or failed. */
export function valueOr<T>(outcome: Attempt<T>, fallback: T): T {
  return outcome.ok ? outcome.value : fallback
}

/** One place to look for a value; resolving `undefined` means "not there" (as a `NotFoundError`). */
export interface Source<T> {
  backend: BackendName
  read(): Promise<T | undefined>
}

/** What {@link firstFound} found, or the failures of the backends that could not answer. */
export interface Found<T> {
  value?: T
  /** The error of each backend that failed (not-found answers are not failures). */
  failures: Partial<Record<BackendName, unknown>>
}

/**
 * Asks `sources` in order until one has the value. An invalid record or key and a caller's abort
 * pass through; a not-found answer moves on; any other failure is remembered and moves on.
 */
export async function firstFound<T>(
  sources: ReadonlyArray<Source<T>>,
  options: Omit<AttemptOptions, 'passThrough'>
): Promise<Found<T>> {
  const failures: Found<T>['failures'] = {}
  for (const source of sources) {
    const outcome = await attempt(() => source.read(), options)
    if (outcome.ok) {
      if (outcome.value !== undefined) return { value: outcome.value, failures }
    } else if (outcome.kind !== 'not-found') {
      failures[source.backend] = outcome.error
    }
  }
  return { failures }
}

/**
 * Why nothing was found, said as the backend that could not look would have said it: both failed,
 * `BackendsUnavailableError` (cause: the network's error); only the network failed, its error (a
 * timeout stays a timeout, not a not-found that claims the value does not exist); only the local
 * backend failed while it was the only one asked, `BackendsUnavailableError`; else `undefined`
 * (the value does not exist).
 */
export function unanswered(
  operation: string,
  failures: Partial<Record<BackendName, unknown>>,
  primaryActive: boolean
): unknown {
  const { real, mock } = failures
  if (real !== undefined && mock !== undefined)
    return new BackendsUnavailableError(operation, { cause: real })
  if (real !== undefined) return real
  if (mock !== undefined && !primaryActive) return new BackendsUnavailableError(operation, { cause: mock })
  return undefined
}

/** {@link unanswered}, or a `NotFoundError` for `key` when every backend answered. */
export function notFound(
  operation: string,
  key: string,
  failures: Partial<Record<BackendName, unknown>>,
  primaryActive: boolean
): unknown {
  return unanswered(operation, failures, primaryActive) ?? dhtNotFound(key)
}
