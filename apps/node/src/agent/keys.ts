import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { createKeyring, generateRoleKey, type RoleKeyring } from '@chorus/crypto'
import { stringify as toYaml } from 'yaml'
import { z } from 'zod'
import { ConfigError, readStructuredFile } from '../config/load.js'
import { ensurePrivateDir, writeFileAtomic } from '../util/files.js'

/**
 * A recipients file: the PUBLIC age recipients of each role, e.g.
 *   backend_developer: [age1...]
 *   senior_architect: [age1..., age1...]   # several keys during a rotation
 * Every agent of a team reads the same file (keys.recipients); it holds no secret.
 */
export type Recipients = Record<string, string[]>

const recipientsSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_-]+$/, 'role names are letters, digits, _ or -'),
  z.array(z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'not an age X25519 recipient (age1...)'))
)

export function readRecipientsFile(path: string): Recipients {
  const parsed = recipientsSchema.safeParse(readStructuredFile(path, 'recipients file'))
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `recipients file ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`)
    )
  }
  return parsed.data
}

/** Add a recipient to a recipients file (created when missing), keeping what it holds. */
export function addToRecipientsFile(path: string, role: string, recipient: string): void {
  const current: Recipients = existsSync(path) ? readRecipientsFile(path) : {}
  const list = current[role] ?? []
  if (!list.includes(recipient)) current[role] = [...list, recipient]
  writeFileAtomic(path, toYaml(current), 0o644)
}

export interface KeygenResult {
  role: string
  keyId: string
  recipient: string
  identityDir: string
  recipientsFile?: string
}

/**
 * Generate an age key for `role`: its identity is saved into `dir` (0600, the keyring's file
 * format) and its public recipient is printed and, when asked, added to a recipients file.
 */
export async function generateKeyFiles(
  role: string,
  dir: string,
  recipientsFile?: string
): Promise<KeygenResult> {
  const identityDir = resolve(dir)
  ensurePrivateDir(identityDir)
  const keyring = createKeyring()
  if (existsSync(identityDir)) await keyring.loadIdentities(identityDir)
  const key = generateRoleKey(role)
  keyring.addIdentity(key)
  await keyring.saveIdentities(identityDir)
  if (recipientsFile !== undefined) addToRecipientsFile(resolve(recipientsFile), role, key.recipient)
  return {
    role,
    keyId: key.id,
    recipient: key.recipient,
    identityDir,
    ...(recipientsFile !== undefined ? { recipientsFile: resolve(recipientsFile) } : {})
  }
}

export interface LoadedKeys {
  keyring: RoleKeyring
  /** Roles whose identity this node holds. */
  held: string[]
  /** Recipients by role as loaded (public). */
  recipients: Recipients
  generated: string[]
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8')
}
