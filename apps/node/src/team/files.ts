/**
 * The team files an agent keeps in its team directory (`team.dir`, default `<dataDir>/team`):
 *   team.json     the team id and the root-signed manifest (public)
 *   certificate   this agent's member certificate (public; it travels in every envelope)
 *   member/       this agent's own age identity (0600), whose recipient its certificate names
 *   root.key      only for a team the agent made itself (`team.embedded`): the team's root key
 * and the admin's team directory (`chorus-node team init`):
 *   team.json, shares/share-<i>.txt (one per keeper, 0600), role-keys/<role>/ (0600), serial
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createKeyring, generateRoleKey } from '@chorus/crypto'
import { z } from 'zod'
import { ConfigError } from '../errors.js'
import { ensurePrivateDir, writeFileAtomic } from '../util/files.js'

export const TEAM_FILE = 'team.json'
export const CERTIFICATE_FILE = 'certificate'
export const MEMBER_KEY_DIR = 'member'
export const ROOT_KEY_FILE = 'root.key'
export const SHARES_DIR = 'shares'
export const ROLE_KEYS_DIR = 'role-keys'
export const SERIAL_FILE = 'serial'
/** The pseudo-role name of a member's own age key inside its keyring file. */
export const MEMBER_KEY_ROLE = 'member'

/** What `team.json` holds: public, the same for every member of a team. */
export interface TeamFile {
  /** The team id: the root's public key, base64url. */
  team: string
  /** The root-signed manifest. */
  manifest: Uint8Array
}

const teamFileSchema = z
  .object({
    format: z.literal(1),
    team: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not a team id'),
    manifest: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'not base64url')
      .max(200_000)
  })
  .strict()

/** Reads `<dir>/team.json`; undefined when it does not exist. */
export function readTeamFile(dir: string): TeamFile | undefined {
  const path = join(dir, TEAM_FILE)
  if (!existsSync(path)) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ConfigError([`team file ${path}: not JSON`], { cause: err })
  }
  const parsed = teamFileSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `team file ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`)
    )
  }
  return { team: parsed.data.team, manifest: new Uint8Array(Buffer.from(parsed.data.manifest, 'base64url')) }
}

/** Writes `<dir>/team.json` (public, 0644). */
export function writeTeamFile(dir: string, file: TeamFile): void {
  ensurePrivateDir(dir)
  const body = { format: 1, team: file.team, manifest: Buffer.from(file.manifest).toString('base64url') }
  writeFileAtomic(join(dir, TEAM_FILE), `${JSON.stringify(body, null, 2)}\n`, 0o644)
}

/** Reads `<dir>/certificate`; undefined when it does not exist. */
export function readCertificateFile(dir: string): Uint8Array | undefined {
  const path = join(dir, CERTIFICATE_FILE)
  if (!existsSync(path)) return undefined
  if (statSync(path).size > 16 * 1024) throw new ConfigError([`certificate file ${path} is too large`])
  return new Uint8Array(readFileSync(path))
}

export function writeCertificateFile(dir: string, certificate: Uint8Array): void {
  ensurePrivateDir(dir)
  writeFileAtomic(join(dir, CERTIFICATE_FILE), certificate, 0o644)
}

/**
 * This member's own age recipient (for key grants), from `<dir>/member/`; the identity is
 * generated (0600) when there is none.
 */
export async function ensureMemberKey(dir: string): Promise<string> {
  const keyDir = join(dir, MEMBER_KEY_DIR)
  ensurePrivateDir(keyDir)
  const ring = createKeyring()
  await ring.loadIdentities(keyDir)
  if (!ring.holdsRole(MEMBER_KEY_ROLE)) {
    ring.addIdentity(generateRoleKey(MEMBER_KEY_ROLE))
    await ring.saveIdentities(keyDir)
  }
  const own = ring.exportRecipients().find((k) => k.role === MEMBER_KEY_ROLE)
  if (own === undefined) throw new ConfigError([`no member key in ${keyDir}`])
  return own.recipient
}

/** Next certificate serial of an admin's team directory (a counter file, starting at 1). */
export function nextSerial(dir: string): number {
  const path = join(dir, SERIAL_FILE)
  const last = existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : 0
  const next = Number.isSafeInteger(last) && last >= 0 ? last + 1 : 1
  writeFileAtomic(path, `${next}\n`, 0o600)
  return next
}
