import { readFile } from 'node:fs/promises'
import { findUnsafeKey } from '@chorus/common'
import { isNode, LineCounter, parseDocument } from 'yaml'
import { RolesFileError } from './errors.js'
import {
  checkReferences,
  createRoleRegistry,
  getPredefinedRoles,
  type RoleDefinition,
  type RoleRegistry,
  type RoleRegistryOptions,
  rolesDocumentSchema
} from './roles.js'

/**
 * Parses a roles file (YAML, or JSON, which is YAML too) of the form
 *
 *     roles:
 *       release_manager: { authority: coordination, canDecrypt: [backend_developer], description: … }
 *
 * and returns a registry of the predefined roles plus these (same names override). Errors name
 * the file, line, column and field.
 */
export function parseRolesFile(
  text: string,
  options: RoleRegistryOptions & { source?: string } = {}
): RoleRegistry {
  const source = options.source ?? '<roles file>'
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const firstError = doc.errors[0]
  if (firstError !== undefined) {
    const pos = lineCounter.linePos(firstError.pos[0])
    throw new RolesFileError(source, '', `not valid YAML/JSON: ${firstError.code}`, {
      line: pos?.line,
      column: pos?.col,
      cause: firstError
    })
  }
  const locate = (path: (string | number)[]) => {
    // Walk up the path until a node with a source range is found.
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)
      if (isNode(node) && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0])
        return { line, column: col }
      }
    }
    return undefined
  }
  let plain: unknown
  try {
    // toJS throws plain errors for unresolved aliases and alias bombs (maxAliasCount).
    plain = doc.toJS({ maxAliasCount: 100 })
  } catch (cause) {
    throw new RolesFileError(source, '', `not valid YAML/JSON: ${(cause as Error).message}`, { cause })
  }
  // a key such as __proto__ would reach an object prototype in the copies below: refuse it here
  const unsafe = findUnsafeKey(plain)
  if (unsafe !== undefined) {
    const path = unsafe.split('.')
    throw new RolesFileError(source, unsafe, 'is a reserved key name', locate(path))
  }
  const parsed = rolesDocumentSchema.safeParse(plain)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol')
    throw new RolesFileError(source, path.join('.'), issue?.message ?? 'invalid', locate(path))
  }
  // Check references first, with positions; createRoleRegistry checks them too, without lines.
  const base = options.includePredefined === false ? [] : Object.values(getPredefinedRoles())
  const all = new Map<string, RoleDefinition>(base.map((r) => [r.name, r]))
  for (const [name, spec] of Object.entries(parsed.data.roles)) {
    all.set(name, { name, description: '', authority: spec.authority, canDecrypt: spec.canDecrypt ?? [] })
  }
  checkReferences(all, source, locate)
  return createRoleRegistry(parsed.data.roles, { ...options, source })
}

/** Reads and parses a roles file; see {@link parseRolesFile}. */
export async function loadRolesFile(
  path: string,
  options: RoleRegistryOptions & { signal?: AbortSignal } = {}
): Promise<RoleRegistry> {
  let text: string
  try {
    text = await readFile(path, { encoding: 'utf8', signal: options.signal })
  } catch (cause) {
    throw new RolesFileError(path, '', `cannot read the roles file (${(cause as Error).message})`, { cause })
  }
  return parseRolesFile(text, { ...options, source: path })
}
