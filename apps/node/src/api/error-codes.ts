/**
 * The one table of the HTTP API's errors: every error code of every CHORUS package, and the
 * API's own, mapped to an HTTP status and a public `UCXL-<status>-<REASON>` code. `mapError()`
 * looks codes up here and nowhere else.
 *
 * One sub-table per package, keyed by the package's code strings, each checked against the
 * package's exported code type (`satisfies Record<XxxErrorCode, HttpError>`: a code added to the
 * package and missing here, or a code here that the package no longer has, fails to compile).
 */
import { COMMON_ERROR_CODES, type CommonErrorCode } from '@chorus/common'
import type { CryptoErrorCode } from '@chorus/crypto'
import type { DHTErrorCode } from '@chorus/dht'
import type { HybridErrorCode } from '@chorus/hybrid'
import type { ReplicationErrorCode } from '@chorus/replication'
import type { StorageErrorCode } from '@chorus/storage'
import type { TeamErrorCode } from '@chorus/team'
import { UCXL_ERROR_CODES, type UCXLErrorCode } from '@chorus/ucxl'
import { AGENT_ERROR_CODES, type AgentErrorCode } from '../errors.js'

/** A public API code: `UCXL-<status>-<REASON>`. */
export type PublicCode = `UCXL-${number}-${string}`

/** How one error code is answered over HTTP. */
export interface HttpError {
  status: number
  code: PublicCode
  /**
   * A fixed message that replaces the error's own: for conditions whose message says nothing
   * to the caller or could carry internals.
   */
  message?: string
}

const http = (status: number, reason: string, message?: string): HttpError => ({
  status,
  code: `UCXL-${status}-${reason}`,
  ...(message !== undefined ? { message } : {})
})
/** A UCXL code that is already public keeps its status and itself. */
const same = (code: PublicCode, message?: string): HttpError => ({
  status: Number(code.slice(5, 8)),
  code,
  ...(message !== undefined ? { message } : {})
})

const INTERNAL_MESSAGE = 'internal error; see the agent log'

/** The generic errors of `@chorus/common` under their default codes. */
const COMMON = {
  [COMMON_ERROR_CODES.NOT_FOUND]: http(404, 'NOT_FOUND'),
  [COMMON_ERROR_CODES.TIMEOUT]: http(504, 'TIMEOUT'),
  [COMMON_ERROR_CODES.NOT_STARTED]: http(503, 'NOT_READY'),
  [COMMON_ERROR_CODES.INVALID_INPUT]: http(400, 'BAD_REQUEST')
} satisfies Record<CommonErrorCode, HttpError>

/** `@chorus/ucxl`: its codes are the public ones. */
const UCXL = {
  [UCXL_ERROR_CODES.INVALID_ADDRESS]: same(UCXL_ERROR_CODES.INVALID_ADDRESS),
  [UCXL_ERROR_CODES.TEMPORAL_INVALID]: same(UCXL_ERROR_CODES.TEMPORAL_INVALID),
  [UCXL_ERROR_CODES.INVALID_DECISION]: same(UCXL_ERROR_CODES.INVALID_DECISION)
} satisfies Record<UCXLErrorCode, HttpError>

/** `@chorus/crypto`. Key, key-file and roles-file errors are the agent's configuration: 500. */
const CRYPTO = {
  CRYPTO_ACCESS_DENIED: http(403, 'ACCESS_DENIED'),
  CRYPTO_INTEGRITY: http(422, 'INTEGRITY'),
  CRYPTO_UNKNOWN_ROLE: http(400, 'UNKNOWN_ROLE'),
  CRYPTO_NO_RECIPIENT: http(500, 'MISSING_RECIPIENT'),
  CRYPTO_KEY_FORMAT: http(500, 'KEY_FORMAT'),
  CRYPTO_KEY_FILE: http(500, 'KEY_FILE'),
  CRYPTO_ROLES_FILE: http(500, 'ROLES_FILE'),
  CRYPTO_INVALID_INPUT: http(400, 'BAD_REQUEST')
} satisfies Record<CryptoErrorCode, HttpError>

/** `@chorus/dht` (and its reputation). */
const DHT = {
  DHT_NOT_FOUND: http(404, 'NOT_FOUND'),
  DHT_NO_ACKS: http(503, 'QUORUM_NOT_REACHED'),
  DHT_INVALID_RECORD: http(422, 'INVALID_RECORD'),
  DHT_NOT_STARTED: http(503, 'NOT_READY'),
  DHT_TIMEOUT: http(504, 'TIMEOUT'),
  DHT_BOOTSTRAP_FAILED: http(503, 'BOOTSTRAP_FAILED'),
  DHT_CONFIG: http(500, 'CONFIG'),
  DHT_INVALID_KEY: http(400, 'INVALID_KEY'),
  DHT_PROTOCOL: http(502, 'PROTOCOL'),
  DHT_PEER_UNREACHABLE: http(502, 'PEER_UNREACHABLE'),
  DHT_STALE_RECORD: http(409, 'STALE_RECORD'),
  DHT_RATE_LIMITED: http(429, 'RATE_LIMITED'),
  DHT_PEER_BANNED: http(403, 'PEER_BANNED'),
  DHT_EQUIVOCATION: http(409, 'EQUIVOCATION'),
  DHT_NOT_ADMITTED: http(403, 'NOT_ADMITTED')
} satisfies Record<DHTErrorCode, HttpError>

/** `@chorus/storage`: its codes are the public ones. */
const STORAGE = {
  'UCXL-400-BAD_REQUEST': same('UCXL-400-BAD_REQUEST'),
  'UCXL-400-INVALID_ADDRESS': same('UCXL-400-INVALID_ADDRESS'),
  'UCXL-400-INVALID_CONTENT_TYPE': same('UCXL-400-INVALID_CONTENT_TYPE'),
  'UCXL-400-INVALID_DECISION': same('UCXL-400-INVALID_DECISION'),
  'UCXL-400-UNKNOWN_ROLE': same('UCXL-400-UNKNOWN_ROLE'),
  'UCXL-403-ACCESS_DENIED': same('UCXL-403-ACCESS_DENIED'),
  'UCXL-403-READ_ONLY_ROLE': same('UCXL-403-READ_ONLY_ROLE'),
  'UCXL-404-NOT_FOUND': same('UCXL-404-NOT_FOUND'),
  'UCXL-410-DELETED': same('UCXL-410-DELETED'),
  'UCXL-413-CONTENT_TOO_LARGE': same('UCXL-413-CONTENT_TOO_LARGE'),
  'UCXL-422-INTEGRITY': same('UCXL-422-INTEGRITY'),
  'UCXL-422-MALFORMED_ENVELOPE': same('UCXL-422-MALFORMED_ENVELOPE'),
  'UCXL-499-ABORTED': same('UCXL-499-ABORTED'),
  'UCXL-500-DATA_DIR_NOT_WRITABLE': same('UCXL-500-DATA_DIR_NOT_WRITABLE'),
  // storage wraps an unexpected error in this one: its message is that error's
  'UCXL-500-INTERNAL': same('UCXL-500-INTERNAL', INTERNAL_MESSAGE),
  'UCXL-500-MISSING_RECIPIENT': same('UCXL-500-MISSING_RECIPIENT'),
  'UCXL-503-NOT_STARTED': same('UCXL-503-NOT_STARTED'),
  'UCXL-503-QUORUM_NOT_REACHED': same('UCXL-503-QUORUM_NOT_REACHED'),
  'UCXL-504-TIMEOUT': same('UCXL-504-TIMEOUT'),
  'UCXL-507-INSUFFICIENT_STORAGE': same('UCXL-507-INSUFFICIENT_STORAGE')
} satisfies Record<StorageErrorCode, HttpError>

/** `@chorus/replication`. */
const REPLICATION = {
  REPLICATION_NOT_STARTED: http(503, 'NOT_READY'),
  REPLICATION_INVALID_ARGUMENT: http(400, 'BAD_REQUEST'),
  REPLICATION_UNKNOWN_CONTENT: http(404, 'NOT_MANAGED'),
  REPLICATION_VALUE_UNAVAILABLE: http(404, 'NOT_FOUND'),
  REPLICATION_REFUSED: http(502, 'REPLICATION_REFUSED'),
  REPLICATION_PROTOCOL: http(502, 'PROTOCOL'),
  REPLICATION_MALFORMED_REQUEST: http(400, 'BAD_REQUEST')
} satisfies Record<ReplicationErrorCode, HttpError>

/** `@chorus/hybrid`. */
const HYBRID = {
  HYBRID_CONFIG: http(500, 'CONFIG'),
  HYBRID_JOURNAL: http(500, 'JOURNAL'),
  HYBRID_UNAVAILABLE: http(503, 'UNAVAILABLE'),
  HYBRID_PROBE_FAILED: http(503, 'UNAVAILABLE')
} satisfies Record<HybridErrorCode, HttpError>

/** `@chorus/team`: a refused write or membership is access denied; the rest are bad input or config. */
const TEAM = {
  TEAM_INVALID_INPUT: http(400, 'BAD_REQUEST'),
  TEAM_INVALID_SHARES: http(400, 'INVALID_SHARES'),
  TEAM_ROOT_FILE: http(500, 'CONFIG'),
  TEAM_SIGNER_WIPED: http(500, 'INTERNAL', INTERNAL_MESSAGE),
  TEAM_INVALID_MANIFEST: http(422, 'INVALID_MANIFEST'),
  TEAM_STALE_MANIFEST: http(409, 'STALE_MANIFEST'),
  TEAM_INVALID_CERTIFICATE: http(403, 'ACCESS_DENIED'),
  TEAM_WRITE_DENIED: http(403, 'ACCESS_DENIED'),
  TEAM_NOT_A_MEMBER: http(403, 'NOT_ADMITTED'),
  TEAM_INVALID_RECORD: http(422, 'INVALID_RECORD'),
  TEAM_INVALID_REVOCATIONS: http(422, 'INVALID_RECORD'),
  TEAM_INVALID_GRANT: http(422, 'INVALID_RECORD'),
  TEAM_STALE_RECORD: http(409, 'STALE_RECORD')
} satisfies Record<TeamErrorCode, HttpError>

/** The agent's own. */
const AGENT = {
  [AGENT_ERROR_CODES.NOT_READY]: http(503, 'NOT_READY'),
  [AGENT_ERROR_CODES.SHUTTING_DOWN]: http(503, 'SHUTTING_DOWN'),
  [AGENT_ERROR_CODES.CONFIG_INVALID]: http(500, 'CONFIG_INVALID'),
  [AGENT_ERROR_CODES.INTERNAL]: http(500, 'INTERNAL', INTERNAL_MESSAGE)
} satisfies Record<AgentErrorCode, HttpError>

/** The API's own refusals (thrown as `APIError`, which carries its status too). */
export const API_ERROR_CODES = {
  BAD_REQUEST: 'UCXL-400-BAD_REQUEST',
  UNAUTHORIZED: 'UCXL-401-UNAUTHORIZED',
  NO_ROUTE: 'UCXL-404-NO_ROUTE',
  HOST_NOT_ALLOWED: 'UCXL-421-HOST_NOT_ALLOWED',
  NOT_READY: 'UCXL-503-NOT_READY'
} as const satisfies Record<string, PublicCode>
export type APIErrorCode = (typeof API_ERROR_CODES)[keyof typeof API_ERROR_CODES]

const API = {
  [API_ERROR_CODES.BAD_REQUEST]: same(API_ERROR_CODES.BAD_REQUEST),
  [API_ERROR_CODES.UNAUTHORIZED]: same(API_ERROR_CODES.UNAUTHORIZED),
  [API_ERROR_CODES.NO_ROUTE]: same(API_ERROR_CODES.NO_ROUTE),
  [API_ERROR_CODES.HOST_NOT_ALLOWED]: same(API_ERROR_CODES.HOST_NOT_ALLOWED),
  [API_ERROR_CODES.NOT_READY]: same(API_ERROR_CODES.NOT_READY)
} satisfies Record<APIErrorCode, HttpError>

/** fastify's body parser refusals. */
const FASTIFY = {
  FST_ERR_CTP_BODY_TOO_LARGE: http(
    413,
    'CONTENT_TOO_LARGE',
    'request body is larger than the API body limit'
  ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: http(415, 'UNSUPPORTED_MEDIA_TYPE'),
  FST_ERR_CTP_EMPTY_JSON_BODY: http(400, 'BAD_REQUEST'),
  FST_ERR_CTP_INVALID_JSON_BODY: http(400, 'BAD_REQUEST')
} as const satisfies Record<string, HttpError>

/** Every known error code, by the code an error carries. */
export const HTTP_ERRORS: Readonly<Record<string, HttpError>> = Object.freeze({
  ...COMMON,
  ...UCXL,
  ...CRYPTO,
  ...DHT,
  ...TEAM,
  ...STORAGE,
  ...REPLICATION,
  ...HYBRID,
  ...AGENT,
  ...API,
  ...FASTIFY
})

/** An aborted or timed-out operation (the platform's `AbortError`/`TimeoutError`). */
export const ABORTED: HttpError = http(504, 'TIMEOUT')
/** A request fastify's schema validation refused. */
export const INVALID_REQUEST: HttpError = http(400, 'BAD_REQUEST')
/** Anything else: the message is replaced, the error is logged. */
export const INTERNAL: HttpError = http(500, 'INTERNAL', INTERNAL_MESSAGE)

/** The mapping of a known code, or undefined. */
export function httpErrorOf(code: string): HttpError | undefined {
  return Object.hasOwn(HTTP_ERRORS, code) ? HTTP_ERRORS[code] : undefined
}
