/** The codes of the generic errors when a package passes none of its own. */
export const COMMON_ERROR_CODES = {
  NOT_FOUND: 'NOT_FOUND',
  TIMEOUT: 'TIMEOUT',
  NOT_STARTED: 'NOT_STARTED',
  INVALID_INPUT: 'INVALID_INPUT'
} as const
export type CommonErrorCode = (typeof COMMON_ERROR_CODES)[keyof typeof COMMON_ERROR_CODES]

export { ChorusError, type ChorusErrorOptions } from './chorus-error.js'
export { errorText, isAbortError } from './error-text.js'
export { InvalidInputError, type InvalidInputErrorOptions } from './invalid-input-error.js'
export { NotFoundError, type NotFoundErrorOptions } from './not-found-error.js'
export { NotStartedError, type NotStartedErrorOptions } from './not-started-error.js'
export { OperationTimeoutError, type OperationTimeoutErrorOptions } from './operation-timeout-error.js'
