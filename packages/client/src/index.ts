export type { components, paths } from './api-types.js'
export {
  type BackendMode,
  type CallOptions,
  type ChorusClient,
  type ChorusClientInit,
  createChorusClient,
  type ErrorBody,
  type Items,
  type Metadata,
  type Peer,
  type SearchQuery,
  type StoreInput,
  type TeamRecord
} from './client.js'
export {
  AgentAPIError,
  type AgentAPIErrorDetails,
  AgentUnreachableError,
  CLIENT_ERROR_CODES,
  type ClientErrorCode
} from './errors.js'
export {
  backoffMs,
  isIdempotent,
  type RetryOptions,
  retryAfterMs,
  retryDefaults
} from './retry.js'
