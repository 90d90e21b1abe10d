import { z } from 'zod'
import { RolesFileError, UnknownRoleError } from './errors.js'

/** Authority levels, strongest first. */
export const AUTHORITY_LEVELS = ['master', 'decision', 'coordination', 'suggestion', 'read_only'] as const
export type AuthorityLevel = (typeof AUTHORITY_LEVELS)[number]

/** A role: who it is, how much authority it has, and whose content it may decrypt. */
export interface RoleDefinition {
  readonly name: string
  readonly description: string
  readonly authority: AuthorityLevel
  /** Roles whose content this role may decrypt; `*` means every role. */
  readonly canDecrypt: readonly string[]
}

/** A role as given in code or in a roles file (the name comes from the key it is listed under). */
export interface RoleSpec {
  description?: string
  authority: AuthorityLevel
  canDecrypt?: string[]
}

export const ROLE_NAME = /^[A-Za-z0-9_-]{1,64}$/

export const roleSpecSchema = z
  .object({
    description: z.string().max(500).optional(),
    authority: z.enum(AUTHORITY_LEVELS),
    canDecrypt: z
      .array(z.string().regex(/^(\*|[A-Za-z0-9_-]{1,64})$/, 'must be a role name or "*"'))
      .max(256)
      .optional()
  })
  .strict()

export const rolesDocumentSchema = z
  .object({
    roles: z
      .record(z.string().regex(ROLE_NAME, 'role names are [A-Za-z0-9_-], 1-64 characters'), roleSpecSchema)
      .refine((r) => Object.keys(r).length > 0, 'must define at least one role')
  })
  .strict()

const PREDEFINED: Record<string, RoleSpec & { description: string }> = {
  // Master authority over the team's policy, not a reader of every role: the seed's example
  // (backend_developer content opens for backend_developer, senior_architect and devops_engineer,
  // and for no other role) holds with the defaults. A team's manifest can widen it.
  admin: {
    authority: 'master',
    canDecrypt: ['admin'],
    description: 'Full control of the team; reads its own content'
  },
  senior_architect: {
    authority: 'decision',
    canDecrypt: ['*'],
    description: 'Architecture decisions; reads every role'
  },
  backend_developer: {
    authority: 'suggestion',
    canDecrypt: ['backend_developer'],
    description: 'Backend implementation'
  },
  frontend_developer: {
    authority: 'suggestion',
    canDecrypt: ['frontend_developer'],
    description: 'Frontend implementation'
  },
  devops_engineer: {
    authority: 'decision',
    canDecrypt: ['devops_engineer', 'backend_developer'],
    description: 'Infrastructure and deployment; reads backend content'
  },
  qa_engineer: {
    authority: 'coordination',
    canDecrypt: ['qa_engineer'],
    description: 'Testing and quality assurance'
  },
  observer: { authority: 'read_only', canDecrypt: [], description: 'Watches; stores nothing' }
}

function define(name: string, spec: RoleSpec): RoleDefinition {
  return Object.freeze({
    name,
    description: spec.description ?? '',
    authority: spec.authority,
    canDecrypt: Object.freeze([...(spec.canDecrypt ?? [])])
  })
}

/** The predefined roles (admin, senior_architect, backend/frontend developers, devops, qa, observer). */
export function getPredefinedRoles(): Record<string, RoleDefinition> {
  return Object.fromEntries(Object.entries(PREDEFINED).map(([n, s]) => [n, define(n, s)]))
}

/** The set of roles in force, and the decisions made from them. */
export interface RoleRegistry {
  /** The role; throws UnknownRoleError for a name it does not define. */
  get(name: string): RoleDefinition
  has(name: string): boolean
  /** False for read-only roles; throws UnknownRoleError for unknown ones. */
  canStore(name: string): boolean
  /**
   * Who may read content created by `creator`: the creator, then every role whose `canDecrypt`
   * holds the creator or `*` (the reference's getDecryptableRoles), without duplicates.
   */
  decryptableRoles(creator: string): string[]
  /** Whether `target` may read content created by `creator`. Both must be known roles. */
  canDecrypt(target: string, creator: string): boolean
  /** All roles, in definition order. */
  list(): RoleDefinition[]
}

export interface RoleRegistryOptions {
  /** Start from the predefined roles (then add/override with `extra`). Default true. */
  includePredefined?: boolean
  /** Names the origin in validation errors. Default `<inline>`. */
  source?: string
}

/**
 * A registry of the predefined roles plus `extra` (which adds roles or overrides predefined ones
 * by name). Every definition is validated; a `canDecrypt` entry naming an undefined role is an
 * error, so a typo never silently narrows or widens access.
 */
export function createRoleRegistry(
  extra: Record<string, RoleSpec> | readonly RoleDefinition[] = {},
  options: RoleRegistryOptions = {}
): RoleRegistry {
  const source = options.source ?? '<inline>'
  const specs: Record<string, unknown> = Array.isArray(extra)
    ? Object.fromEntries(
        (extra as readonly RoleDefinition[]).map(({ name, ...rest }) => [
          name,
          { ...rest, canDecrypt: [...rest.canDecrypt] }
        ])
      )
    : { ...(extra as Record<string, RoleSpec>) }
  const parsed = rolesDocumentSchema.safeParse({ roles: specs })
  if (!parsed.success && Object.keys(specs).length > 0) {
    const issue = parsed.error.issues[0]
    throw new RolesFileError(
      source,
      (issue?.path ?? []).join('.'),
      issue?.message ?? 'invalid role definition'
    )
  }
  const roles = new Map<string, RoleDefinition>()
  if (options.includePredefined !== false) {
    for (const [n, s] of Object.entries(PREDEFINED)) roles.set(n, define(n, s))
  }
  for (const [n, s] of Object.entries(parsed.success ? parsed.data.roles : {})) roles.set(n, define(n, s))
  checkReferences(roles, source)
  return new Registry(roles)
}

export function checkReferences(
  roles: Map<string, RoleDefinition>,
  source: string,
  locate?: (field: (string | number)[]) => { line: number; column: number } | undefined
): void {
  for (const role of roles.values()) {
    role.canDecrypt.forEach((target, i) => {
      if (target !== '*' && !roles.has(target)) {
        const path = ['roles', role.name, 'canDecrypt', i]
        throw new RolesFileError(
          source,
          path.join('.'),
          `names an undefined role ${JSON.stringify(target)}`,
          locate?.(path)
        )
      }
    })
  }
}

class Registry implements RoleRegistry {
  readonly #roles: Map<string, RoleDefinition>

  constructor(roles: Map<string, RoleDefinition>) {
    this.#roles = roles
  }

  get(name: string): RoleDefinition {
    const role = typeof name === 'string' ? this.#roles.get(name) : undefined
    if (role === undefined) throw new UnknownRoleError(name)
    return role
  }

  has(name: string): boolean {
    return this.#roles.has(name)
  }

  canStore(name: string): boolean {
    return this.get(name).authority !== 'read_only'
  }

  decryptableRoles(creator: string): string[] {
    this.get(creator)
    const out = [creator]
    for (const role of this.#roles.values()) {
      if (role.name !== creator && role.canDecrypt.some((r) => r === creator || r === '*'))
        out.push(role.name)
    }
    return out
  }

  canDecrypt(target: string, creator: string): boolean {
    this.get(target)
    return this.decryptableRoles(creator).includes(target)
  }

  list(): RoleDefinition[] {
    return [...this.#roles.values()]
  }

  toJSON(): RoleDefinition[] {
    return this.list()
  }
}
