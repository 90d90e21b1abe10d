/**
 * The agent's team: the team's public root and manifest (`team.json`), this agent's member
 * certificate, and the policy every validator of this node runs. An agent started with nothing
 * configured makes a team of its own on first start (`team.embedded`): root key in its team
 * directory, a manifest of its roles and the recipients it generated, a certificate for itself.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '@chorus/common'
import type { NodeIdentity } from '@chorus/dht'
import {
  createManifest,
  createTeamMember,
  createTeamPolicy,
  generateTeamRoot,
  InvalidCertificateError,
  issueCertificate,
  loadTeamRoot,
  type MemberCertificate,
  parseTeamId,
  type RoleRecipient,
  rootSigner,
  saveTeamRoot,
  signManifest,
  type TeamMember,
  type TeamPolicy,
  type TeamRoot,
  teamIdOf,
  teamRolesOf
} from '@chorus/team'
import type { NodeConfig } from '../config/schema.js'
import { ConfigError } from '../errors.js'
import {
  ensureMemberKey,
  ROOT_KEY_FILE,
  readCertificateFile,
  readTeamFile,
  writeCertificateFile,
  writeTeamFile
} from '../team/files.js'
import { ensurePrivateDir } from '../util/files.js'
import { loadCryptoState } from './crypto-state.js'
import { REVOCATIONS_FILE, readTeamRecordFile } from './team-sync.js'

/** How long a certificate the agent issues itself (embedded team) is valid: one year. */
export const EMBEDDED_CERTIFICATE_VALIDITY = 365 * 24 * 60 * 60 * 1000
/** An embedded team's agent renews its own certificate when less than this is left: 30 days. */
const RENEW_BEFORE = 30 * 24 * 60 * 60 * 1000

/** This agent's place in its team. */
export interface AgentTeam {
  policy: TeamPolicy
  /** This agent's certificate, decoded and verified. */
  certificate: MemberCertificate
  /** This node as a member: its certificate bytes (in every envelope and the admission exchange) and the admission decision on peers. */
  member: TeamMember
  /** The agent made this team itself and holds its root key. */
  embedded: boolean
}

export type TeamConfig = Pick<NodeConfig, 'team' | 'role' | 'agentId' | 'rolesFile' | 'keys'>

/**
 * Loads (or, for an embedded team, makes) the agent's team and checks that its certificate is
 * this node's: the node key, the configured agent id and role.
 * @throws ConfigError when no team is configured, the files are unusable, or the certificate
 *   belongs to another node, agent or role
 */
export async function loadAgentTeam(config: TeamConfig, node: NodeIdentity, log: Logger): Promise<AgentTeam> {
  const dir = config.team.dir
  let file = readTeamFile(dir)
  if (file === undefined) {
    if (!config.team.embedded || config.team.root !== '') {
      throw new ConfigError([
        `no team: ${join(dir, 'team.json')} does not exist (admit this agent with \`chorus-node team admit --member <its data dir>\`, or leave team.root empty and team.embedded on for a team of its own)`
      ])
    }
    await createEmbeddedTeam(config, node, log)
    file = readTeamFile(dir)
    if (file === undefined) throw new ConfigError([`could not write ${join(dir, 'team.json')}`])
  }
  if (config.team.root !== '' && config.team.root !== file.team) {
    throw new ConfigError([
      `team.json is for team ${file.team}, but this agent is configured for team ${config.team.root}`
    ])
  }
  let policy: TeamPolicy
  // the revocation list taken before (a broken or foreign file is ignored: the network has it)
  const revocations = readTeamRecordFile(dir, REVOCATIONS_FILE)
  try {
    policy = createTeamPolicy({ root: parseTeamId(file.team), manifest: file.manifest })
  } catch (err) {
    throw new ConfigError(
      [`team.json: the manifest does not verify with the team's root (${(err as Error).message})`],
      {
        cause: err
      }
    )
  }
  if (revocations !== undefined) {
    try {
      policy.acceptRevocations(revocations)
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the kept revocation list does not open; ignored')
    }
  }
  const root = existsSync(join(dir, ROOT_KEY_FILE)) ? await loadTeamRoot(join(dir, ROOT_KEY_FILE)) : undefined
  const embedded = root !== undefined && teamIdOf(root.publicKey) === file.team
  let bytes = readCertificateFile(dir)
  let certificate = bytes === undefined ? undefined : tryVerify(policy, bytes)
  const stale =
    certificate === undefined ||
    certificate.notAfter - Date.now() < RENEW_BEFORE ||
    !Buffer.from(certificate.nodeKey).equals(node.publicKey)
  if (embedded && root !== undefined && stale) {
    bytes = await issueOwnCertificate(config, policy, root, node, dir)
    certificate = tryVerify(policy, bytes)
    log.info({ team: file.team }, 'issued this agent its certificate of its own team')
  }
  if (bytes !== undefined && certificate === undefined && revokedCertificate(policy, bytes)) {
    throw new ConfigError([`this agent's certificate in ${dir} has been revoked by team ${file.team}`])
  }
  if (bytes === undefined || certificate === undefined) {
    throw new ConfigError([
      bytes === undefined
        ? `not admitted: no certificate in ${dir} (run \`chorus-node team admit\` for this agent)`
        : `the certificate in ${dir} is not valid for team ${file.team} (expired, or not issued by its root or an issuer)`
    ])
  }
  if (!Buffer.from(certificate.nodeKey).equals(node.publicKey)) {
    throw new ConfigError([
      `the certificate in ${dir} is for another node key; this node is ${node.peerId} (admit it again with this data directory)`
    ])
  }
  if (config.agentId !== '' && config.agentId !== certificate.agent) {
    throw new ConfigError([
      `agentId is ${config.agentId}, but this agent's certificate is for agent ${certificate.agent}`
    ])
  }
  if (!certificate.roles.includes(config.role)) {
    throw new ConfigError([
      `role ${config.role} is not one of this agent's certificate roles (${certificate.roles.join(', ')})`
    ])
  }
  const member = createTeamMember({ policy, certificate: bytes })
  return { policy, certificate, member, embedded }
}

function revokedCertificate(policy: TeamPolicy, bytes: Uint8Array): boolean {
  try {
    policy.verifyCertificate(bytes)
    return false
  } catch (err) {
    return InvalidCertificateError.isInstance(err) && err.reason === 'revoked'
  }
}

function tryVerify(policy: TeamPolicy, bytes: Uint8Array): MemberCertificate | undefined {
  try {
    return policy.verifyCertificate(bytes)
  } catch {
    return undefined
  }
}

/** The agent id an agent without a configured one gets: `agent-` and the end of its peer id. */
export function defaultAgentId(peerId: string): string {
  return `agent-${peerId.slice(-8)}`
}

async function issueOwnCertificate(
  config: TeamConfig,
  policy: TeamPolicy,
  root: TeamRoot,
  node: NodeIdentity,
  dir: string
): Promise<Uint8Array> {
  const now = Date.now()
  const bytes = issueCertificate(
    {
      team: policy.teamId,
      agent: config.agentId !== '' ? config.agentId : defaultAgentId(node.peerId),
      roles: [config.role],
      nodeKey: node.publicKey,
      recipient: await ensureMemberKey(dir),
      notBefore: now - 60_000,
      notAfter: now + EMBEDDED_CERTIFICATE_VALIDITY,
      serial: now
    },
    rootSigner(root)
  )
  writeCertificateFile(dir, bytes)
  return bytes
}

/**
 * A team of this agent alone: the roles of its roles file (or the predefined ones), the
 * recipients it generates or reads from its recipients files, and a root key kept in its team
 * directory (0600).
 */
async function createEmbeddedTeam(config: TeamConfig, node: NodeIdentity, log: Logger): Promise<void> {
  const dir = config.team.dir
  const local = await loadCryptoState(config, log)
  const recipients: Record<string, RoleRecipient[]> = {}
  for (const k of local.keyring.exportRecipients()) {
    if (!local.registry.has(k.role)) continue
    const list = recipients[k.role] ?? []
    list.push({
      keyId: k.id,
      recipient: k.recipient,
      status: 'current',
      createdAt: Date.parse(k.createdAt) || Date.now()
    })
    recipients[k.role] = list
  }
  const root = generateTeamRoot()
  const team = teamIdOf(root.publicKey)
  const roles = teamRolesOf(local.registry.list())
  const manifest = signManifest(createManifest({ team, roles, recipients }), rootSigner(root))
  ensurePrivateDir(dir)
  await saveTeamRoot(join(dir, ROOT_KEY_FILE), root)
  writeTeamFile(dir, { team, manifest })
  log.info({ team, peerId: node.peerId }, 'made a team of this agent alone (team.embedded)')
}
