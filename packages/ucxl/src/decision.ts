import { z } from 'zod'
import { DecisionValidationError, UCXLAddressError } from './errors.js'
import { formatAddress } from './format.js'
import { component, WILDCARD } from './grammar.js'
import type { UCXLComponent } from './types.js'

// Bounds keep one decision record a reasonable DHT value.
const SHORT = 512
const LONG = 65_536
const MAX_ITEMS = 256

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max)

/** An author component: an agent or role name, never the wildcard. */
const name = (field: UCXLComponent) =>
  z.string().transform((value, ctx) => {
    try {
      if (value.length > SHORT) throw new UCXLAddressError(field, `is longer than ${SHORT} characters`, value)
      const v = component(field, value, 0, value.length, value)
      if (v === WILDCARD) throw new UCXLAddressError(field, 'must be a concrete name, not a wildcard', value)
      return v
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as UCXLAddressError).reason })
      return z.NEVER
    }
  })

/** A UCXL address, stored in canonical form. */
const address = z.string().transform((value, ctx) => {
  try {
    return formatAddress(value)
  } catch (err) {
    const e = err as UCXLAddressError
    ctx.addIssue({ code: 'custom', message: `${e.code}: ${e.field} ${e.reason}` })
    return z.NEVER
  }
})

/**
 * A decision record: what was decided for a task, why, what else was considered, the context, the
 * files touched, the test results, who decided and when, and the earlier addresses it builds on.
 * Unknown keys are dropped (records from newer writers still validate); references are
 * normalised to canonical UCXL addresses.
 */
export const DecisionSchema = z.object({
  /** The task the decision settles (free text, e.g. the task id or title). */
  task: text(SHORT),
  /** What was decided. */
  decision: text(LONG),
  /** Why. */
  rationale: text(LONG),
  /** Options considered and not taken. */
  alternatives: z
    .array(z.object({ option: text(LONG), reasonRejected: z.string().max(LONG).optional() }))
    .max(MAX_ITEMS)
    .default([]),
  /** Background a later reader needs. */
  context: z.string().max(LONG).default(''),
  /** Files the decision created, changed or removed. */
  files: z
    .array(
      z.object({
        path: text(4096),
        change: z.enum(['added', 'modified', 'deleted', 'renamed']).optional()
      })
    )
    .max(4096)
    .default([]),
  /** Outcome of the tests run for the decision, if any. */
  testResults: z
    .object({
      passed: z.int().min(0),
      failed: z.int().min(0),
      skipped: z.int().min(0).default(0),
      command: z.string().max(4096).optional(),
      summary: z.string().max(LONG).optional()
    })
    .optional(),
  /** Who decided: a concrete agent and the role it acted in. */
  author: z.object({ agent: name('agent'), role: name('role') }),
  /** When, as an ISO 8601 date-time with `Z` or an offset. */
  timestamp: z.iso.datetime({ offset: true }),
  /** Earlier UCXL addresses this decision builds on or supersedes (canonicalised). */
  references: z.array(address).max(MAX_ITEMS).default([])
})

/** A validated decision (defaults filled in, references canonical). */
export type Decision = z.output<typeof DecisionSchema>
/** What {@link validateDecision} accepts before defaults are applied. */
export type DecisionInput = z.input<typeof DecisionSchema>

/**
 * Validates a decision record. Returns the typed, normalised decision, or throws
 * {@link DecisionValidationError} whose `field` names the first bad field (e.g. `references.1`).
 */
export function validateDecision(input: unknown): Decision {
  const result = DecisionSchema.safeParse(input)
  if (result.success) return result.data
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.'),
    reason: issue.message
  }))
  throw new DecisionValidationError(issues, { cause: result.error })
}
