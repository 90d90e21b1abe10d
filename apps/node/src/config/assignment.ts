import { existsSync } from 'node:fs'
import { z } from 'zod'
import { ConfigError, readStructuredFile } from './load.js'
import { checkMultiaddr, type NodeConfig } from './schema.js'

/**
 * The runtime assignment file: what an orchestrator hands an agent while it runs (re-read on SIGHUP).
 * Today it carries the bootstrap peers, which win over the config file and the environment.
 */
export interface Assignment {
  bootstrapPeers?: string[]
}

const assignmentSchema = z.strictObject({
  bootstrapPeers: z
    .array(
      z.string().superRefine((v, ctx) => {
        const problem = checkMultiaddr(v, true)
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
      })
    )
    .optional()
})

/** Read the assignment file; a missing file is no assignment. Throws `ConfigError` when it is invalid. */
export function readAssignment(path: string): Assignment | undefined {
  if (path === '' || !existsSync(path)) return undefined
  const parsed = assignmentSchema.safeParse(readStructuredFile(path, 'assignment file'))
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `assignment file ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`)
    )
  }
  return parsed.data
}

export interface BootstrapChoice {
  peers: string[]
  source: 'assignment' | 'config'
}

/** Bootstrap peers by priority: assignment file > config (file or flag) > environment (already in config). */
export function chooseBootstrapPeers(config: NodeConfig): BootstrapChoice {
  const assignment = readAssignment(config.assignmentFile)
  if (assignment?.bootstrapPeers !== undefined && assignment.bootstrapPeers.length > 0) {
    return { peers: assignment.bootstrapPeers, source: 'assignment' }
  }
  return { peers: config.bootstrapPeers, source: 'config' }
}
