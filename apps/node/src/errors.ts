import { ChorusError } from '@chorus/common'

/**
 * The app's own error codes (the agent, its configuration and the API layer's internal
 * conditions). The HTTP API maps each of them, as every package's codes, in `api/error-codes.ts`.
 */
export const AGENT_ERROR_CODES = {
  /** A request came before the agent finished starting. */
  NOT_READY: 'AGENT_NOT_READY',
  /** A request came after shutdown began. */
  SHUTTING_DOWN: 'AGENT_SHUTTING_DOWN',
  /** The configuration (file, env, flags, roles or recipients file) is invalid. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** The agent was wired wrongly (a bug, never the caller's fault). */
  INTERNAL: 'AGENT_INTERNAL'
} as const
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[keyof typeof AGENT_ERROR_CODES]

/** An agent-level refusal (not ready, shutting down), mapped to HTTP by its code. */
export class AgentError extends ChorusError {
  declare readonly code: AgentErrorCode
  constructor(message: string, options: { code: AgentErrorCode; cause?: unknown }) {
    super(message, options)
  }
}

/** The configuration could not be loaded or is invalid; the CLI exits with code 2. */
export class ConfigError extends ChorusError {
  declare readonly code: typeof AGENT_ERROR_CODES.CONFIG_INVALID
  readonly exitCode = 2
  readonly problems: string[]
  constructor(problems: string[], options?: { cause?: unknown }) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      code: AGENT_ERROR_CODES.CONFIG_INVALID,
      cause: options?.cause
    })
    this.problems = problems
  }
}
