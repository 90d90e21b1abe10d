/**
 * The team's revocation list and this agent's key grant on the DHT, beside the manifest
 * (`manifest-sync.ts`), on the same interval:
 * - the revocation list (`/CHORUS/team/<id>/revocations`): a higher version signed by the root is
 *   taken, kept in `<team dir>/revocations` for restarts, and the revoked peers are expelled
 *   (hung up on, denied; admission refuses them afterwards);
 * - this agent's grant (`/CHORUS/team/<id>/grants/<agent>`): a higher version for its own
 *   recipient is opened with its member key and the identities installed into its keys directory
 *   (kept in `<team dir>/grant`), then the crypto state is rebuilt: no file is copied by hand.
 * It also takes records an administrator hands to the agent's API (`apply`): each is checked by
 * the team's record rules first, applied, then put on the DHT.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { errorText, type Logger } from '@chorus/common'
import { createKeyring, readIdentityFile } from '@chorus/crypto'
import type { DHT } from '@chorus/dht'
import {
  decryptKeyGrant,
  type KeyGrant,
  type RevocationList,
  teamGrantKey,
  teamRecordKind,
  teamRecordValidator,
  teamRevocationsKey
} from '@chorus/team'
import { MEMBER_KEY_DIR, MEMBER_KEY_ROLE } from '../team/files.js'
import { ensurePrivateDir, writeFileAtomic } from '../util/files.js'
import type { AgentLifecycle } from './lifecycle.js'
import type { ManifestSync } from './manifest-sync.js'
import type { AgentTeam } from './team.js'

/** Where the agent keeps the revocation list and its grant, in its team directory. */
export const REVOCATIONS_FILE = 'revocations'
export const GRANT_FILE = 'grant'
/** Most records one `apply` takes. */
export const MAX_APPLIED_RECORDS = 64
/** Largest record file read back at start. */
const MAX_FILE_BYTES = 256 * 1024

export interface TeamSyncComponents {
  dht: Pick<DHT, 'putValue' | 'getValue'>
  team: AgentTeam
  manifests: Pick<ManifestSync, 'take'>
  lifecycle: Pick<AgentLifecycle, 'signal' | 'every' | 'stopping'>
  logger: Logger
}

export interface TeamSyncInit {
  interval: number
  /** The agent's team directory (its member key, the revocation list and grant files). */
  teamDir: string
  /** The agent's keys directory, where granted identities go. */
  keysDir: string
  /** Called after a revocation list was taken (expel the revoked peers). */
  onRevocations: (list: RevocationList) => void
  /** Called after granted identities were installed, or the keys new content goes to changed. */
  onKeys: () => Promise<void>
}

/** What `apply` did with one record. */
export interface AppliedRecord {
  key: string
  kind: 'manifest' | 'revocations' | 'grant'
  /** Taken: newer than what this agent held (a grant: installed, when it is this agent's). */
  taken: boolean
  /** Peers that acknowledged the put (0 for a lone agent). */
  acks: number
}

/** Reads a record file the agent wrote (bounded); undefined when absent. */
export function readTeamRecordFile(dir: string, name: string): Uint8Array | undefined {
  const path = join(dir, name)
  if (!existsSync(path) || statSync(path).size > MAX_FILE_BYTES) return undefined
  return new Uint8Array(readFileSync(path))
}

export class TeamSync {
  readonly #c: TeamSyncComponents
  readonly #init: TeamSyncInit
  readonly #revocationsKey: string
  readonly #grantKey: string
  readonly #validate: (key: Uint8Array, value: Uint8Array) => void
  #grantVersion = 0
  #recipients = ''

  constructor(components: TeamSyncComponents, init: TeamSyncInit) {
    this.#c = components
    this.#init = init
    const { policy, certificate } = components.team
    this.#revocationsKey = teamRevocationsKey(policy.teamId)
    this.#grantKey = teamGrantKey(policy.teamId, certificate.agent)
    this.#validate = teamRecordValidator(policy)
    this.#recipients = this.#recipientsNow()
    policy.onRevocations((list) => {
      const bytes = policy.revocationBytes
      if (bytes !== undefined) writeFileAtomic(join(init.teamDir, REVOCATIONS_FILE), bytes, 0o644)
      init.onRevocations(list)
    })
  }

  /** The grant version installed (0: none). */
  get grantVersion(): number {
    return this.#grantVersion
  }

  /** Install the grant kept from a previous run, publish the list held, then refresh every `interval`. */
  async run(): Promise<void> {
    const kept = readTeamRecordFile(this.#init.teamDir, GRANT_FILE)
    if (kept !== undefined) await this.#install(kept).catch(() => false)
    const held = this.#c.team.policy.revocationBytes
    if (held !== undefined) await this.#put(this.#revocationsKey, held)
    await this.refresh()
    this.#c.lifecycle.every(this.#init.interval, () => this.refresh())
  }

  /** Read the network's revocation list and this agent's grant; take what is newer. Never throws. */
  async refresh(): Promise<void> {
    try {
      await this.#refresh()
    } catch (err) {
      this.#c.logger.warn({ err: errorText(err) }, 'team records not refreshed')
    }
  }

  async #refresh(): Promise<void> {
    if (this.#c.lifecycle.stopping) return
    const { team, logger } = this.#c
    const list = await this.#get(this.#revocationsKey)
    if (list !== undefined) {
      try {
        team.policy.acceptRevocations(list)
      } catch (err) {
        logger.debug({ err: errorText(err) }, 'network holds an older or invalid revocation list')
      }
    }
    const grant = await this.#get(this.#grantKey)
    if (grant !== undefined) {
      await this.#install(grant).catch((err: unknown) => {
        logger.warn({ err: errorText(err) }, 'key grant not installed')
      })
    }
    // an overlap window that ended changes where new content goes
    const now = this.#recipientsNow()
    if (now !== this.#recipients) {
      this.#recipients = now
      await this.#init.onKeys()
    }
  }

  /**
   * Take records an administrator made (`chorus-node team grant | revoke | rotate`): each must
   * pass the team's record rules (`TeamRecordError` otherwise, nothing applied), then manifests
   * and revocation lists are taken (a stale one is not an error: it is put all the same), this
   * agent's grant is installed, and each is put on the DHT.
   */
  async apply(records: Array<{ key: string; value: Uint8Array }>): Promise<AppliedRecord[]> {
    const encoder = new TextEncoder()
    const kinds = records.map((r) => {
      const key = encoder.encode(r.key)
      this.#validate(key, r.value) // refuses a key that names none of the team's records
      return teamRecordKind(this.#c.team.policy, key)?.kind ?? 'grant'
    })
    const out: AppliedRecord[] = []
    for (const [i, r] of records.entries()) {
      const kind = kinds[i] ?? 'grant'
      let taken = false
      if (kind === 'manifest') taken = await this.#c.manifests.take(r.value).catch(() => false)
      else if (kind === 'revocations') taken = this.#accept(r.value)
      else if (r.key === this.#grantKey) taken = await this.#install(r.value)
      out.push({ key: r.key, kind, taken, acks: await this.#put(r.key, r.value) })
    }
    await this.refresh()
    return out
  }

  #accept(bytes: Uint8Array): boolean {
    try {
      return this.#c.team.policy.acceptRevocations(bytes)
    } catch {
      return false
    }
  }

  /** Installs this agent's grant when it is newer than the one installed. */
  async #install(bytes: Uint8Array): Promise<boolean> {
    const { team, logger } = this.#c
    const grant: KeyGrant = team.policy.openGrant(bytes)
    if (grant.agent !== team.certificate.agent || grant.recipient !== team.certificate.recipient) return false
    if (grant.version <= this.#grantVersion) return false
    const own = await readIdentityFile(join(this.#init.teamDir, MEMBER_KEY_DIR, `${MEMBER_KEY_ROLE}.key`))
    const memberKey = own.find((e) => e.key.recipient === grant.recipient)?.key
    if (memberKey === undefined) return false
    const entries = await decryptKeyGrant(grant, memberKey)
    ensurePrivateDir(this.#init.keysDir)
    const ring = createKeyring()
    await ring.loadIdentities(this.#init.keysDir)
    for (const e of entries) ring.addIdentity(e.key, { status: e.status })
    await ring.saveIdentities(this.#init.keysDir)
    writeFileAtomic(join(this.#init.teamDir, GRANT_FILE), bytes, 0o644)
    this.#grantVersion = grant.version
    logger.info(
      { version: grant.version, keys: grant.keys.map((k) => `${k.role}:${k.keyId}`) },
      'installed a key grant'
    )
    await this.#init.onKeys()
    return true
  }

  async #get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await this.#c.dht.getValue(key, { signal: this.#c.lifecycle.signal })
    } catch {
      return undefined // none yet, or the network is away
    }
  }

  async #put(key: string, value: Uint8Array): Promise<number> {
    try {
      const { acks } = await this.#c.dht.putValue(key, value, { signal: this.#c.lifecycle.signal })
      return acks.length
    } catch (err) {
      this.#c.logger.debug({ err: errorText(err) }, 'team record not put (yet)')
      return 0
    }
  }

  #recipientsNow(): string {
    const { policy } = this.#c.team
    return Object.keys(policy.manifest.roles)
      .map((r) => `${r}:${policy.recipients(r).join(',')}`)
      .join(';')
  }
}
