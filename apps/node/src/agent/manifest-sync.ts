/**
 * The team's manifest on the DHT, under `/CHORUS/team/<team id>`: the agent publishes the version
 * it holds and, every `interval`, reads what the network holds; a higher version signed by the
 * team's root (the policy refuses anything else) replaces its own, is written to `team.json` so a
 * restart keeps it, and rebuilds the crypto state (roles and recipients come from it).
 */
import { errorText, type Logger } from '@chorus/common'
import type { DHT } from '@chorus/dht'
import { teamManifestKey } from '@chorus/team'
import { writeTeamFile } from '../team/files.js'
import type { AgentLifecycle } from './lifecycle.js'
import type { AgentTeam } from './team.js'

export interface ManifestSyncComponents {
  dht: Pick<DHT, 'putValue' | 'getValue'>
  team: AgentTeam
  lifecycle: Pick<AgentLifecycle, 'signal' | 'every' | 'stopping'>
  logger: Logger
}

export interface ManifestSyncInit {
  /** How often the network's manifest is read, in ms. */
  interval: number
  /** Called after a newer manifest was taken. */
  onManifest: () => Promise<void>
  /** Where `team.json` lives (written when a newer manifest arrives). */
  teamDir: string
}

export class ManifestSync {
  readonly #c: ManifestSyncComponents
  readonly #init: ManifestSyncInit
  readonly #key: string

  constructor(components: ManifestSyncComponents, init: ManifestSyncInit) {
    this.#c = components
    this.#init = init
    this.#key = teamManifestKey(components.team.policy.teamId)
  }

  /** Publish once, then read the network's version now and every `interval`. */
  async run(): Promise<void> {
    await this.publish()
    await this.refresh()
    this.#c.lifecycle.every(this.#init.interval, async () => {
      await this.refresh()
    })
  }

  /** Put the manifest this agent holds (best effort: a lone agent has no peer to take it). */
  async publish(): Promise<void> {
    const { dht, team, lifecycle, logger } = this.#c
    try {
      await dht.putValue(this.#key, team.policy.manifestBytes, { signal: lifecycle.signal })
    } catch (err) {
      logger.debug({ err: errorText(err) }, 'team manifest not published (yet)')
    }
  }

  /** Read the network's manifest; take it when it is a higher version signed by the root. */
  async refresh(): Promise<boolean> {
    const { dht, lifecycle, logger } = this.#c
    if (lifecycle.stopping) return false
    let value: Uint8Array
    try {
      value = await dht.getValue(this.#key, { signal: lifecycle.signal })
    } catch {
      return false // none found, or the network is away: keep ours
    }
    try {
      return await this.take(value)
    } catch (err) {
      // an older copy somewhere: ours is newer, put it back
      logger.debug({ err: errorText(err) }, 'network holds an older or invalid team manifest')
      await this.publish()
      return false
    }
  }

  /**
   * Take a manifest (from the network or an administrator): when it is a higher version signed by
   * the root, write `team.json` and rebuild. False when it is the manifest in force.
   * @throws what `TeamPolicy.acceptManifest` throws (invalid, stale)
   */
  async take(value: Uint8Array): Promise<boolean> {
    const { team, logger } = this.#c
    if (!team.policy.acceptManifest(value)) return false
    logger.info({ version: team.policy.manifest.version }, 'took a newer team manifest')
    writeTeamFile(this.#init.teamDir, { team: team.policy.teamId, manifest: team.policy.manifestBytes })
    await this.#init.onManifest()
    return true
  }
}
