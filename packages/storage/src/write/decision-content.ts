import { DecisionValidationError, validateDecision } from '@chorus/ucxl'
import { InvalidDecisionError } from '../errors.js'

/** The content type whose content must be a decision record (`@chorus/ucxl`'s `DecisionSchema`). */
export const DECISION_CONTENT_TYPE = 'decision'

/** What the local index keeps of a decision for search: short fields, bounded by the schema. */
export interface DecisionFields {
  /** The decision's `task` (at most 512 characters). */
  task: string
  /** `author.agent` and `author.role` (UCXL components). */
  agent: string
  role: string
  /** `timestamp`, ms since the Unix epoch. */
  decidedAt: number
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Validates content stored as a decision: UTF-8 JSON of a record `DecisionSchema` accepts.
 * Returns the fields the index keeps; throws `InvalidDecisionError` naming the first bad field.
 * The caller has already bounded the content's size (`maxContentBytes`).
 */
export function checkDecision(content: Uint8Array): DecisionFields {
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(content))
  } catch (err) {
    throw new InvalidDecisionError('(root)', 'is not UTF-8 JSON', { cause: err })
  }
  try {
    const d = validateDecision(json)
    return {
      task: d.task,
      agent: d.author.agent,
      role: d.author.role,
      decidedAt: Date.parse(d.timestamp)
    }
  } catch (err) {
    if (DecisionValidationError.isInstance(err)) {
      throw new InvalidDecisionError(err.field, err.reason, { cause: err })
    }
    throw err
  }
}

/** The index fields of a decision this node opened, or undefined when it is not a valid one. */
export function decisionFieldsOf(contentType: string, content: Uint8Array): DecisionFields | undefined {
  if (contentType !== DECISION_CONTENT_TYPE) return undefined
  try {
    return checkDecision(content)
  } catch {
    return undefined
  }
}
