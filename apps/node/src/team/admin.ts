/**
 * What the team's administrators do, offline, with the team directory `chorus-node team init`
 * made: make the team (root split into Shamir shares, one age key per role, manifest v1) and
 * admit members (a certificate signed with the root, combined from k shares for that one step).
 * The CLI, the demo and the tests call these.
 */
import { join, resolve } from 'node:path'
import { createKeyring, createRoleRegistry, generateRoleKey, loadRolesFile } from '@chorus/crypto'
import { loadNodeIdentity, nodeKeyOfPeerId, peerIdOfNodeKey } from '@chorus/dht'
import {
  createManifest,
  createTeamPolicy,
  generateTeamRoot,
  issueCertificate,
  parseTeamId,
  type RoleRecipient,
  rootSigner,
  signManifest,
  splitTeamRoot,
  teamIdOf,
  teamRolesOf,
  withTeamRoot
} from '@chorus/team'
import { ConfigError } from '../errors.js'
import { ensurePrivateDir, writeFileAtomic } from '../util/files.js'
import {
  ensureMemberKey,
  nextSerial,
  ROLE_KEYS_DIR,
  readTeamFile,
  SHARES_DIR,
  writeCertificateFile,
  writeTeamFile
} from './files.js'
import { readRoster, writeRoster } from './roster.js'
import { shareText } from './shares.js'

const DAY = 24 * 60 * 60 * 1000

export interface InitTeamOptions {
  /** The team directory to create (team.json, shares/, role-keys/). */
  dir: string
  /** Number of root shares. @default 5 */
  shares?: number
  /** Shares needed to sign. @default 3 */
  threshold?: number
  /** A roles file for the manifest's roles; default the predefined roles. */
  rolesFile?: string
}

export interface InitTeamResult {
  team: string
  dir: string
  shareFiles: string[]
  threshold: number
  roles: string[]
}

/**
 * Make a team: a root key split into `shares` Shamir shares (any `threshold` sign), one age key
 * per role (identities in `role-keys/<role>/`, 0600), and manifest version 1 naming every role's
 * recipient. The root's private key is never written whole.
 */
export async function initTeam(options: InitTeamOptions): Promise<InitTeamResult> {
  const dir = resolve(options.dir)
  if (readTeamFile(dir) !== undefined) throw new ConfigError([`${dir} already holds a team`])
  const shares = options.shares ?? 5
  const threshold = options.threshold ?? 3
  const registry = options.rolesFile ? await loadRolesFile(options.rolesFile) : createRoleRegistry()
  ensurePrivateDir(dir)
  const recipients: Record<string, RoleRecipient[]> = {}
  for (const role of registry.list()) {
    const ring = createKeyring()
    const key = generateRoleKey(role.name)
    ring.addIdentity(key)
    await ring.saveIdentities(join(dir, ROLE_KEYS_DIR, role.name))
    recipients[role.name] = [
      { keyId: key.id, recipient: key.recipient, status: 'current', createdAt: Date.now() }
    ]
  }
  const root = generateTeamRoot()
  try {
    const team = teamIdOf(root.publicKey)
    const roles = teamRolesOf(registry.list())
    const manifest = signManifest(createManifest({ team, roles, recipients }), rootSigner(root))
    const texts = await splitTeamRoot(root, { shares, threshold })
    const shareFiles = texts.map((text, i) => {
      const path = join(dir, SHARES_DIR, `share-${i + 1}.txt`)
      writeFileAtomic(path, `${text}\n`, 0o600)
      return path
    })
    writeTeamFile(dir, { team, manifest })
    return { team, dir, shareFiles, threshold, roles: registry.list().map((r) => r.name) }
  } finally {
    root.privateKey.fill(0)
  }
}

export interface AdmitOptions {
  /** The team directory (`team init`). */
  dir: string
  /** Root share texts or files holding them (at least the threshold). */
  shares: string[]
  /** The member's agent id (the agent part of the addresses it may write). */
  agent: string
  roles: string[]
  /** The member's data directory on this machine: its node key and member key are read (or made) there and the team files written into its `team/`. */
  member?: string
  /** Otherwise: the member's peer id (Ed25519) and its own age recipient. */
  peerId?: string
  recipient?: string
  /** Validity in days. @default 365 */
  validDays?: number
  /** Also install the identities of the member's roles into its keys directory (`member` only). */
  withRoleKeys?: boolean
}

export interface AdmitResult {
  agent: string
  roles: string[]
  serial: number
  peerId: string
  notAfter: string
  certificate: Uint8Array
  /** Where the member's team files went (with `member`). */
  teamDir?: string
}

/** Issue a member certificate, signed with the root combined from the shares for this one step. */
export async function admitMember(options: AdmitOptions): Promise<AdmitResult> {
  const dir = resolve(options.dir)
  const file = readTeamFile(dir)
  if (file === undefined) throw new ConfigError([`${dir} holds no team (run chorus-node team init)`])
  const policy = createTeamPolicy({ root: parseTeamId(file.team), manifest: file.manifest })
  const registry = policy.roleRegistry()
  for (const role of options.roles) {
    if (!registry.has(role))
      throw new ConfigError([`role ${JSON.stringify(role)} is not in the team's manifest`])
  }
  let nodeKey: Uint8Array
  let recipient: string
  const teamDir = options.member !== undefined ? join(resolve(options.member), 'team') : undefined
  if (options.member !== undefined && teamDir !== undefined) {
    nodeKey = (await loadNodeIdentity(join(resolve(options.member), 'libp2p'))).publicKey
    recipient = await ensureMemberKey(teamDir)
  } else {
    if (options.peerId === undefined || options.recipient === undefined) {
      throw new ConfigError(['admit needs --member <data dir>, or --peer-id and --recipient'])
    }
    nodeKey = nodeKeyOfPeerId(options.peerId)
    recipient = options.recipient
  }
  const now = Date.now()
  const serial = nextSerial(dir)
  const notAfter = now + (options.validDays ?? 365) * DAY
  const certificate = await withTeamRoot(options.shares.map(shareText), async (signer) =>
    issueCertificate(
      {
        team: file.team,
        agent: options.agent,
        roles: options.roles,
        nodeKey,
        recipient,
        notBefore: now - 60_000,
        notAfter,
        serial
      },
      signer
    )
  )
  policy.verifyCertificate(certificate)
  // the roster: whom a revocation names, and who holds which role's keys (for rotations)
  const roster = readRoster(dir)
  const known = roster.get(options.agent)
  const nodeKeyText = Buffer.from(nodeKey).toString('base64url')
  const sameNode = known !== undefined && known.nodeKey === nodeKeyText && !known.revoked
  const copied = options.withRoleKeys === true && teamDir !== undefined ? options.roles : []
  roster.set(options.agent, {
    nodeKey: nodeKeyText,
    recipient,
    serials: [...(sameNode ? known.serials : []), serial].slice(-16),
    roles: options.roles,
    keyRoles: [...new Set([...(sameNode ? known.keyRoles : []), ...copied])],
    grantVersion: known?.grantVersion ?? 0,
    revoked: false
  })
  writeRoster(dir, roster)
  if (teamDir !== undefined && options.member !== undefined) {
    writeTeamFile(teamDir, file)
    writeCertificateFile(teamDir, certificate)
    if (options.withRoleKeys === true) {
      const ring = createKeyring()
      const keysDir = join(resolve(options.member), 'keys')
      ensurePrivateDir(keysDir)
      await ring.loadIdentities(keysDir)
      for (const role of options.roles) await ring.loadIdentities(join(dir, ROLE_KEYS_DIR, role))
      await ring.saveIdentities(keysDir)
    }
  }
  return {
    agent: options.agent,
    roles: options.roles,
    serial,
    peerId: peerIdOfNodeKey(nodeKey),
    notAfter: new Date(notAfter).toISOString(),
    certificate,
    ...(teamDir !== undefined ? { teamDir } : {})
  }
}

/** The team of a team directory: id, manifest version, roles and their current key ids. */
export function showTeam(dir: string): Record<string, unknown> {
  const file = readTeamFile(resolve(dir))
  if (file === undefined) throw new ConfigError([`${resolve(dir)} holds no team`])
  const policy = createTeamPolicy({ root: parseTeamId(file.team), manifest: file.manifest })
  const m = policy.manifest
  return {
    team: policy.teamId,
    manifestVersion: m.version,
    roles: Object.entries(m.roles).map(([name, r]) => ({
      name,
      authority: r.authority,
      canDecrypt: r.canDecrypt,
      currentKeys: (m.recipients[name] ?? []).filter((k) => k.status === 'current').map((k) => k.keyId)
    })),
    issuers: m.issuers.map((i) => i.name)
  }
}
