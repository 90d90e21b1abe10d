/**
 * @chorus/common: what every CHORUS package shares, written once.
 *
 * - errors: {@link ChorusError}, the one base (stable `name` and `code`, `cause`, a cross-copy
 *   `isInstance()`), and the generic errors (not found, timeout, not started, invalid input);
 * - abort and time limits: {@link abortError}, {@link anySignal}, {@link pause},
 *   {@link waitAtMost}, {@link withTimeout};
 * - {@link Logger} and {@link silentLogger}; {@link createRefusalLog}: refusals of peers logged at a
 *   bounded size and rate;
 * - {@link BackgroundTasks}: work that outlives the call that started it;
 * - {@link openDatabase}: SQLite with the pragmas every store uses;
 * - {@link writeFileAtomic} (secret files) and {@link STRICT_CBOR_DECODE_OPTIONS}.
 *
 * It depends on nothing (not libp2p), so `@chorus/ucxl` and `@chorus/crypto` may use it.
 *
 * @packageDocumentation
 */
export {
  abortError,
  abortReason,
  anySignal,
  pause,
  throwIfAborted,
  timeoutSignal,
  waitAtMost,
  withTimeout
} from './abort.js'
export { BackgroundTasks } from './background-tasks.js'
export { bytesEqual, copyBytes } from './bytes.js'
export { STRICT_CBOR_DECODE_OPTIONS } from './cbor.js'
export {
  ChorusError,
  type ChorusErrorOptions,
  COMMON_ERROR_CODES,
  type CommonErrorCode,
  errorText,
  InvalidInputError,
  type InvalidInputErrorOptions,
  isAbortError,
  NotFoundError,
  type NotFoundErrorOptions,
  NotStartedError,
  type NotStartedErrorOptions,
  OperationTimeoutError,
  type OperationTimeoutErrorOptions
} from './errors/index.js'
export { writeFileAtomic } from './files.js'
export { type Logger, silentLogger } from './logger.js'
export { createRateLimiter, type RateLimiter, type RateLimiterInit } from './rate-limiter.js'
export { createRefusalLog, type RefusalLog, type RefusalLogInit } from './refusal-log.js'
export {
  type OpenDatabaseOptions,
  openDatabase,
  type TurnTransaction,
  type TurnTransactionOptions,
  turnTransaction
} from './sqlite.js'
export { findUnsafeKey, isUnsafeKey } from './unsafe-keys.js'
