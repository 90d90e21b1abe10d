export { type Decision, type DecisionInput, DecisionSchema, validateDecision } from './decision.js'
export { addressDigest, DHT_KEY_PREFIX, dhtKey } from './digest.js'
export {
  type DecisionIssue,
  DecisionValidationError,
  INVALID_ADDRESS,
  INVALID_DECISION,
  MAX_ERROR_INPUT_LENGTH,
  TEMPORAL_INVALID,
  UCXL_ERROR_CODES,
  UCXLAddressError,
  type UCXLAddressErrorCode,
  type UCXLErrorCode
} from './errors.js'
export {
  type AddressLike,
  baseAddress,
  formatAddress,
  formatPattern,
  normaliseAddress,
  normalisePattern
} from './format.js'
export { formatTemporal, MAX_ADDRESS_LENGTH, WILDCARD } from './grammar.js'
export { isWildcardAddress, matchesAddress } from './match.js'
export { isValidAddress, parseAddress, parsePattern } from './parse.js'
export { headKey, parseRecordKey, type RecordKey, versionKey } from './record-keys.js'
export type { Temporal, UCXLAddress, UCXLComponent, UCXLField } from './types.js'
