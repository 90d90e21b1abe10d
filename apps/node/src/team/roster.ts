/**
 * What the admin's team directory remembers about its members, so that a revocation or a rotation
 * knows whom to revoke and whom to grant the new key (`members.json`, public), and the signed
 * records it last made, which `team publish` hands to a running agent:
 *   members.json        per agent: node key, own recipient, certificate serials and roles, the
 *                       roles whose keys it holds, its grant version, whether it was revoked
 *   revocations         the root-signed revocation list (binary)
 *   grants/<agent>      each member's latest key grant (binary)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { ConfigError } from '../errors.js'
import { ensurePrivateDir, writeFileAtomic } from '../util/files.js'

export const ROSTER_FILE = 'members.json'
export const REVOCATIONS_FILE = 'revocations'
export const GRANTS_DIR = 'grants'
/** Largest signed record file read back (the team's own limits are smaller). */
const MAX_RECORD_FILE_BYTES = 256 * 1024

const NAME = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)

const memberSchema = z
  .object({
    nodeKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    recipient: z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/),
    serials: z.array(z.number().int().nonnegative()).max(64),
    roles: z.array(NAME).max(32),
    keyRoles: z.array(NAME).max(256),
    grantVersion: z.number().int().nonnegative(),
    revoked: z.boolean()
  })
  .strict()

const rosterSchema = z
  .object({ format: z.literal(1), members: z.record(NAME, memberSchema) })
  .strict()
  .refine((r) => !Object.hasOwn(r.members, '__proto__'), 'no member may be called __proto__')

/** One member as the admin's directory knows it. */
export type RosterMember = z.infer<typeof memberSchema>
/** Members by agent id. */
export type Roster = Map<string, RosterMember>

/** Reads `<dir>/members.json` (an empty roster when it does not exist). */
export function readRoster(dir: string): Roster {
  const path = join(dir, ROSTER_FILE)
  if (!existsSync(path)) return new Map()
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError([`members file ${path}: not JSON`], { cause: err })
  }
  const parsed = rosterSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `members file ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`)
    )
  }
  return new Map(Object.entries(parsed.data.members))
}

export function writeRoster(dir: string, roster: Roster): void {
  const members = Object.fromEntries([...roster].sort(([a], [b]) => a.localeCompare(b)))
  writeFileAtomic(join(dir, ROSTER_FILE), `${JSON.stringify({ format: 1, members }, null, 2)}\n`, 0o644)
}

function readRecordFile(path: string): Uint8Array | undefined {
  if (!existsSync(path)) return undefined
  if (statSync(path).size > MAX_RECORD_FILE_BYTES) throw new ConfigError([`${path} is too large`])
  return new Uint8Array(readFileSync(path))
}

/** The revocation list this directory last signed; undefined before the first revocation. */
export function readRevocationsFile(dir: string): Uint8Array | undefined {
  return readRecordFile(join(dir, REVOCATIONS_FILE))
}

export function writeRevocationsFile(dir: string, bytes: Uint8Array): void {
  writeFileAtomic(join(dir, REVOCATIONS_FILE), bytes, 0o644)
}

/** The grant this directory last made for `agent`. */
export function readGrantFile(dir: string, agent: string): Uint8Array | undefined {
  return readRecordFile(join(dir, GRANTS_DIR, agent))
}

export function writeGrantFile(dir: string, agent: string, bytes: Uint8Array): void {
  ensurePrivateDir(join(dir, GRANTS_DIR))
  writeFileAtomic(join(dir, GRANTS_DIR, agent), bytes, 0o644)
}

/** Every agent with a grant file. */
export function grantedAgents(dir: string): string[] {
  const d = join(dir, GRANTS_DIR)
  return existsSync(d)
    ? readdirSync(d).filter((f) => /^[A-Za-z0-9_-]{1,64}$/.test(f) && f !== '__proto__')
    : []
}
