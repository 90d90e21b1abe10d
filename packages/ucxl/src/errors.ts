import { ChorusError } from '@chorus/common'
import type { UCXLField } from './types.js'

/** Stable error codes, the same ones the node's HTTP API returns. */
export const INVALID_ADDRESS = 'UCXL-400-INVALID_ADDRESS'
export const TEMPORAL_INVALID = 'UCXL-400-TEMPORAL_INVALID'
export const INVALID_DECISION = 'UCXL-400-INVALID_DECISION'

export type UCXLAddressErrorCode = typeof INVALID_ADDRESS | typeof TEMPORAL_INVALID

/** Every code this package's errors carry. */
export const UCXL_ERROR_CODES = { INVALID_ADDRESS, TEMPORAL_INVALID, INVALID_DECISION } as const
export type UCXLErrorCode = (typeof UCXL_ERROR_CODES)[keyof typeof UCXL_ERROR_CODES]

/** Errors echo at most this many characters of the input, so a huge input never floods a log. */
export const MAX_ERROR_INPUT_LENGTH = 200

/** Shortens an input for an error message; non-strings are described by their type only. */
export function describeInput(input: unknown): string {
  if (typeof input !== 'string') return `<${input === null ? 'null' : typeof input}>`
  if (input.length <= MAX_ERROR_INPUT_LENGTH) return input
  return `${input.slice(0, MAX_ERROR_INPUT_LENGTH)}… (${input.length} characters)`
}

/**
 * An address (or an address pattern) is not valid. `field` names the part at fault, `reason`
 * says why, `input` is the offending input (truncated to {@link MAX_ERROR_INPUT_LENGTH} chars).
 * The code is `UCXL-400-TEMPORAL_INVALID` when the temporal segment is at fault, else
 * `UCXL-400-INVALID_ADDRESS`.
 */
export class UCXLAddressError extends ChorusError {
  declare readonly code: UCXLAddressErrorCode
  readonly field: UCXLField
  readonly reason: string
  readonly input: string

  constructor(field: UCXLField, reason: string, input: unknown, options?: { cause?: unknown }) {
    const shown = describeInput(input)
    super(`Invalid UCXL address: ${field} ${reason} (input: ${JSON.stringify(shown)})`, {
      code: field === 'temporal' ? TEMPORAL_INVALID : INVALID_ADDRESS,
      cause: options?.cause
    })
    this.field = field
    this.reason = reason
    this.input = shown
  }
}

/** One problem found in a decision record. */
export interface DecisionIssue {
  /** Dotted path of the field, e.g. `references.2` or `author.role`; `(root)` for the record itself. */
  field: string
  reason: string
}

/** A decision record does not match the schema. `field`/`reason` describe the first issue. */
export class DecisionValidationError extends ChorusError {
  declare readonly code: typeof INVALID_DECISION
  readonly field: string
  readonly reason: string
  readonly issues: DecisionIssue[]

  constructor(issues: DecisionIssue[], options?: { cause?: unknown }) {
    const first = issues[0] ?? { field: '(root)', reason: 'is invalid' }
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
    super(`Invalid decision: ${first.field}: ${first.reason}${more}`, {
      code: INVALID_DECISION,
      cause: options?.cause
    })
    this.field = first.field
    this.reason = first.reason
    this.issues = issues
  }
}
