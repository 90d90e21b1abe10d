/**
 * The key lifecycle, done offline by the team's administrators with k of n root shares (as
 * `team admit`): grant a role's keys to a member, revoke a member (revocation list, then every
 * role whose keys it held rotated and the new keys granted to the remaining holders), rotate a
 * role's key (with an optional overlap window). Each makes signed records and keeps them in the
 * team directory; `teamRecords()` lists the latest of each, which the CLI hands to a running
 * agent (`POST /v1/team/records`) to check, apply and put on the DHT.
 */
import { join, resolve } from 'node:path'
import { createKeyring, type IdentityFileEntry, readIdentityFile } from '@chorus/crypto'
import {
  createKeyGrant,
  createManifest,
  createTeamPolicy,
  parseTeamId,
  type RevocationList,
  rotateRoleKey,
  signManifest,
  signRevocations,
  type TeamManifest,
  type TeamPolicy,
  type TeamSigner,
  teamGrantKey,
  teamManifestKey,
  teamRevocationsKey,
  withTeamRoot
} from '@chorus/team'
import { ConfigError } from '../errors.js'
import { ROLE_KEYS_DIR, readTeamFile, type TeamFile, writeTeamFile } from './files.js'
import {
  grantedAgents,
  type Roster,
  type RosterMember,
  readGrantFile,
  readRevocationsFile,
  readRoster,
  writeGrantFile,
  writeRevocationsFile,
  writeRoster
} from './roster.js'
import { shareText } from './shares.js'

/** A signed team record, ready for the DHT. */
export interface TeamRecord {
  kind: 'manifest' | 'revocations' | 'grant'
  key: string
  value: Uint8Array
  version: number
  /** The member a grant is for. */
  agent?: string
}

/** What a lifecycle command did, and the records it signed (to publish). */
export interface LifecycleResult {
  team: string
  manifestVersion: number
  /** Roles whose key was rotated, with the new key id. */
  rotated: Array<{ role: string; keyId: string }>
  /** Members that got a new grant, with its version. */
  granted: Array<{ agent: string; version: number; roles: string[] }>
  /** The revocation list version, when one was signed. */
  revocationsVersion?: number
  records: TeamRecord[]
}

interface AdminState {
  dir: string
  file: TeamFile
  policy: TeamPolicy
  roster: Roster
  revocations: RevocationList | undefined
}

function load(dirOption: string): AdminState {
  const dir = resolve(dirOption)
  const file = readTeamFile(dir)
  if (file === undefined) throw new ConfigError([`${dir} holds no team (run chorus-node team init)`])
  const revocationBytes = readRevocationsFile(dir)
  const policy = createTeamPolicy({
    root: parseTeamId(file.team),
    manifest: file.manifest,
    ...(revocationBytes !== undefined ? { revocations: revocationBytes } : {})
  })
  return { dir, file, policy, roster: readRoster(dir), revocations: policy.revocations }
}

function memberOf(state: AdminState, agent: string): RosterMember {
  const m = state.roster.get(agent)
  if (m === undefined)
    throw new ConfigError([`agent ${JSON.stringify(agent)} was not admitted from this team directory`])
  if (m.revoked) throw new ConfigError([`agent ${JSON.stringify(agent)} has been revoked`])
  return m
}

/** Every key of a role the directory holds (current and retired), with its identity. */
async function roleKeys(dir: string, role: string): Promise<IdentityFileEntry[]> {
  const entries = await readIdentityFile(join(dir, ROLE_KEYS_DIR, role, `${role}.key`))
  return entries.filter((e) => e.key.role === role)
}

/** A member's next grant: every key of every role it holds. */
async function grantFor(
  state: AdminState,
  agent: string,
  member: RosterMember,
  signer: TeamSigner
): Promise<TeamRecord> {
  const keys = (await Promise.all(member.keyRoles.map((r) => roleKeys(state.dir, r)))).flat()
  member.grantVersion += 1
  const value = await createKeyGrant(
    { team: state.file.team, agent, version: member.grantVersion, recipient: member.recipient, keys },
    signer
  )
  state.policy.openGrant(value)
  return {
    kind: 'grant',
    key: teamGrantKey(state.file.team, agent),
    value,
    version: member.grantVersion,
    agent
  }
}

/** A new current key for each role in the directory's key files (old ones retired there). */
async function rotateKeyFiles(dir: string, roles: string[], now: number): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const role of roles) {
    const ring = createKeyring()
    const roleDir = join(dir, ROLE_KEYS_DIR, role)
    await ring.loadIdentities(roleDir)
    const key = ring.rotate(role, { createdAt: new Date(now) })
    await ring.saveIdentities(roleDir)
    out.set(role, key.recipient)
  }
  return out
}

/** The manifest with every role in `recipients` rotated, as one new version. */
function rotatedManifest(base: TeamManifest, recipients: Map<string, string>, now: number, overlap: number) {
  let m = base
  for (const [role, recipient] of recipients) {
    m = createManifest({ ...rotateRoleKey(m, { role, recipient, now, overlap }), version: base.version + 1 })
  }
  return m
}

function manifestRecord(team: string, value: Uint8Array, version: number): TeamRecord {
  return { kind: 'manifest', key: teamManifestKey(team), value, version }
}

function save(state: AdminState, manifest: Uint8Array | undefined, records: TeamRecord[]): void {
  if (manifest !== undefined) writeTeamFile(state.dir, { team: state.file.team, manifest })
  for (const r of records) {
    if (r.kind === 'revocations') writeRevocationsFile(state.dir, r.value)
    if (r.kind === 'grant' && r.agent !== undefined) writeGrantFile(state.dir, r.agent, r.value)
  }
  writeRoster(state.dir, state.roster)
}

export interface GrantOptions {
  dir: string
  shares: string[]
  agent: string
  /** The role whose keys (current and retired: old content too) the member gets. */
  role: string
}

/**
 * Grants a member a role's keys: its next grant holds the keys of every role it holds, this one
 * included. A member reads what is encrypted to a role's keys; which roles' content reaches those
 * keys is the manifest's `canDecrypt`.
 */
export async function grantRole(options: GrantOptions): Promise<LifecycleResult> {
  const state = load(options.dir)
  state.policy.roleRegistry().get(options.role)
  const member = memberOf(state, options.agent)
  if (!member.keyRoles.includes(options.role)) member.keyRoles.push(options.role)
  const record = await withTeamRoot(options.shares.map(shareText), (signer) =>
    grantFor(state, options.agent, member, signer)
  )
  save(state, undefined, [record])
  return {
    team: state.file.team,
    manifestVersion: state.policy.manifest.version,
    rotated: [],
    granted: [{ agent: options.agent, version: record.version, roles: [...member.keyRoles] }],
    records: [record]
  }
}

export interface RotateOptions {
  dir: string
  shares: string[]
  role: string
  /** How long the old key still receives new content, in ms. @default 0 */
  overlapMs?: number
}

/** Rotates a role's key and grants the new one to every member holding the role. */
export async function rotateRole(options: RotateOptions): Promise<LifecycleResult> {
  const state = load(options.dir)
  state.policy.roleRegistry().get(options.role)
  return rotateAndGrant(state, options.shares, [options.role], options.overlapMs ?? 0, [])
}

export interface RevokeOptions {
  dir: string
  shares: string[]
  agent: string
}

/**
 * Revokes a member: revocation list version + 1 naming its node key and serials, then every role
 * whose keys it held rotated without overlap and the new keys granted to the remaining holders.
 * What it could read before stays readable to it (it kept the old keys); new content is not.
 */
export async function revokeMember(options: RevokeOptions): Promise<LifecycleResult> {
  const state = load(options.dir)
  const member = memberOf(state, options.agent)
  const now = Date.now()
  const previous = state.revocations
  const list: RevocationList = {
    team: state.file.team,
    version: (previous?.version ?? 0) + 1,
    issuedAt: now,
    revoked: [
      ...(previous?.revoked ?? []),
      {
        agent: options.agent,
        nodeKey: parseTeamId(member.nodeKey),
        serials: member.serials.slice(-16),
        revokedAt: now
      }
    ]
  }
  member.revoked = true
  const revoke = (signer: TeamSigner): TeamRecord => {
    const value = signRevocations(list, signer)
    return { kind: 'revocations', key: teamRevocationsKey(state.file.team), value, version: list.version }
  }
  const result = await rotateAndGrant(state, options.shares, [...member.keyRoles], 0, [revoke])
  return { ...result, revocationsVersion: list.version }
}

async function rotateAndGrant(
  state: AdminState,
  shares: string[],
  roles: string[],
  overlap: number,
  before: Array<(signer: TeamSigner) => TeamRecord>
): Promise<LifecycleResult> {
  const now = Date.now()
  const holders = [...state.roster].filter(([, m]) => !m.revoked && m.keyRoles.some((r) => roles.includes(r)))
  const texts = shares.map(shareText)
  // the root is combined (and checked) before any key file changes
  const records = await withTeamRoot(texts, async (signer) => {
    const out = before.map((make) => make(signer))
    if (roles.length > 0) {
      const recipients = await rotateKeyFiles(state.dir, roles, now)
      const manifest = rotatedManifest(state.policy.manifest, recipients, now, overlap)
      const bytes = signManifest(manifest, signer)
      state.policy.acceptManifest(bytes)
      out.push(manifestRecord(state.file.team, bytes, manifest.version))
      for (const [agent, member] of holders) out.push(await grantFor(state, agent, member, signer))
    }
    return out
  })
  const manifest = records.find((r) => r.kind === 'manifest')
  save(state, manifest?.value, records)
  return {
    team: state.file.team,
    manifestVersion: state.policy.manifest.version,
    rotated: roles.map((role) => ({
      role,
      keyId: state.policy.manifest.recipients[role]?.find((k) => k.status === 'current')?.keyId ?? ''
    })),
    granted: records
      .filter((r) => r.kind === 'grant')
      .map((r) => ({
        agent: r.agent ?? '',
        version: r.version,
        roles: [...(state.roster.get(r.agent ?? '')?.keyRoles ?? [])]
      })),
    records
  }
}

/** The latest signed records of the team directory: manifest, revocation list, every grant. */
export function teamRecords(dirOption: string): TeamRecord[] {
  const state = load(dirOption)
  const team = state.file.team
  const out: TeamRecord[] = [manifestRecord(team, state.file.manifest, state.policy.manifest.version)]
  const revocations = readRevocationsFile(state.dir)
  if (revocations !== undefined && state.revocations !== undefined) {
    out.push({
      kind: 'revocations',
      key: teamRevocationsKey(team),
      value: revocations,
      version: state.revocations.version
    })
  }
  for (const agent of grantedAgents(state.dir)) {
    const value = readGrantFile(state.dir, agent)
    if (value === undefined) continue
    const grant = state.policy.openGrant(value)
    out.push({ kind: 'grant', key: teamGrantKey(team, agent), value, version: grant.version, agent })
  }
  return out
}
