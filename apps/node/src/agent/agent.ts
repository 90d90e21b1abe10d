/**
 * The agent: a facade over its components (`components.ts`), its crypto state
 * (`crypto-state.ts`), its lifecycle (`lifecycle.ts`), the network join (`join.ts`) and the
 * hand-off of stored records to replication (`handoff.ts`). Each service method delegates in a
 * line or two; what the API shows is built by the pure functions of `views.ts`.
 */
import { join } from 'node:path'
import type { Logger } from '@chorus/common'
import { loadNodeIdentity, nodeKeyOfPeerId } from '@chorus/dht'
import type { RevocationList } from '@chorus/team'
import { dhtKey, parseAddress } from '@chorus/ucxl'
import type { Logger as PinoLogger } from 'pino'
import { chooseBootstrapPeers } from '../config/assignment.js'
import type { NodeConfig } from '../config/schema.js'
import { AGENT_ERROR_CODES, AgentError } from '../errors.js'
import { ensurePrivateDir } from '../util/files.js'
import {
  type AgentComponents,
  createComponents,
  startComponents,
  stopComponents,
  stopSteps
} from './components.js'
import { AgentKeys } from './crypto-state.js'
import { deleteContent, type HandoffComponents, handOff, reconcileLater } from './handoff.js'
import { NetworkJoin } from './join.js'
import * as library from './library.js'
import { AgentLifecycle } from './lifecycle.js'
import { ManifestSync } from './manifest-sync.js'
import type {
  AgentService,
  DeleteResponse,
  RetrieveResult,
  SearchQuery,
  StoreRequest,
  TeamRecordInput
} from './service.js'
import { type AgentTeam, loadAgentTeam } from './team.js'
import { TeamSync } from './team-sync.js'
import {
  hybridView,
  metricsView,
  peersView,
  plain,
  readinessView,
  replicationSummaryView,
  statusView
} from './views.js'

export { AGENT_ERROR_CODES, AgentError, type AgentErrorCode } from '../errors.js'
export { LOCAL_RECIPIENTS } from './crypto-state.js'

/** The agent: its service for the API plus its lifecycle. */
export interface Agent extends AgentService {
  /** Build and start every component (join and announcement continue in the background). */
  start(): Promise<void>
  /** Stop in dependency order; idempotent. */
  stop(): Promise<void>
  /** Apply a reloaded configuration: assignment/bootstrap peers, roles file, recipients. */
  reload(config: NodeConfig): Promise<void>
  multiaddrs(): string[]
}

export async function createAgent(config: NodeConfig, logger: PinoLogger): Promise<Agent> {
  return new ChorusAgent(config, logger)
}

/** How often the DHT statistics shown by status and metrics are read, in ms. */
const DHT_STATS_INTERVAL = 5_000

class ChorusAgent implements Agent {
  #config: NodeConfig
  readonly #log: PinoLogger
  readonly #keys: AgentKeys
  readonly #lifecycle: AgentLifecycle
  #components: AgentComponents | undefined
  #join: NetworkJoin | undefined
  #dhtStats: Record<string, unknown> = {}
  #agentId = ''
  #team: AgentTeam | undefined
  #teamSync: TeamSync | undefined

  constructor(config: NodeConfig, logger: PinoLogger) {
    this.#config = config
    this.#log = logger
    this.#keys = new AgentKeys(this.#logger())
    // a removed role key takes the plaintext it opened out of the cache at once
    this.#keys.onReload(() => {
      const dropped = this.#components?.storage.purgeRemovedKeys() ?? 0
      if (dropped > 0) this.#log.info({ dropped }, 'cached content of removed role keys dropped')
    })
    this.#lifecycle = new AgentLifecycle({ logger: this.#logger() })
  }

  get role(): string {
    return this.#config.role
  }
  get agentId(): string {
    return this.#agentId
  }
  get peerId(): string {
    return this.#components?.libp2p.peerId ?? ''
  }
  multiaddrs(): string[] {
    return this.#components?.libp2p.multiaddrs ?? []
  }

  #logger(component?: string): Logger {
    return (component === undefined ? this.#log : this.#log.child({ component })) as unknown as Logger
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.#lifecycle.started) return
    const c = this.#config
    ensurePrivateDir(c.dataDir)
    const node = await loadNodeIdentity(join(c.dataDir, 'libp2p'))
    const team = await loadAgentTeam(c, node, this.#logger('team'))
    this.#team = team
    this.#agentId = team.certificate.agent
    await this.#keys.reload(c, team.policy)
    const components = await createComponents({
      config: c,
      crypto: this.#keys.storageComponents(),
      team,
      logger: (name) => this.#logger(name)
    })
    this.#components = components
    this.#join = new NetworkJoin(
      { dht: components.libp2p, lifecycle: this.#lifecycle, logger: this.#logger() },
      {
        role: c.role,
        capabilities: c.capabilities,
        joinStagger: c.joinStaggerMs,
        discoveryInterval: c.dht.discoveryInterval,
        reprovideInterval: c.replication.reprovideInterval,
        bootstrap: chooseBootstrapPeers(c)
      }
    )
    await startComponents(components)
    // a signal during start-up: stop() already ran over what existed then; close the rest
    if (this.#lifecycle.stopping) {
      await stopComponents(components)
      throw new AgentError('the agent was stopped during start-up', { code: AGENT_ERROR_CODES.SHUTTING_DOWN })
    }
    this.#lifecycle.markStarted()
    this.#lifecycle.every(DHT_STATS_INTERVAL, () => this.#refreshDHTStats())
    void this.#refreshDHTStats()
    this.#lifecycle.spawn(this.#join.run())
    // the team's manifest travels on the DHT: publish ours, take a higher version signed by the root
    const sync = new ManifestSync(
      { dht: components.hybrid, team, lifecycle: this.#lifecycle, logger: this.#logger('team') },
      {
        interval: c.dht.discoveryInterval,
        teamDir: c.team.dir,
        onManifest: () => this.#keys.reload(this.#config, team.policy)
      }
    )
    this.#lifecycle.spawn(sync.run())
    // revocations and this agent's key grant travel beside it
    this.#teamSync = new TeamSync(
      {
        dht: components.hybrid,
        team,
        manifests: sync,
        lifecycle: this.#lifecycle,
        logger: this.#logger('team')
      },
      {
        interval: c.dht.discoveryInterval,
        teamDir: c.team.dir,
        keysDir: c.keys.dir,
        onRevocations: (list) => this.#expelRevoked(list),
        onKeys: () => this.#keys.reload(this.#config, team.policy)
      }
    )
    this.#expelRevoked(team.policy.revocations)
    this.#lifecycle.spawn(this.#teamSync.run())
    const author = Buffer.from(components.libp2p.signer.publicKey).toString('hex')
    this.#lifecycle.spawn(reconcileLater(this.#handoff(components), author, this.#lifecycle.signal))
  }

  stop(): Promise<void> {
    return this.#lifecycle.stop(() => stopSteps(this.#components))
  }

  async reload(config: NodeConfig): Promise<void> {
    const next: NodeConfig = {
      ...this.#config,
      log: config.log,
      rolesFile: config.rolesFile,
      keys: config.keys,
      assignmentFile: config.assignmentFile,
      bootstrapPeers: config.bootstrapPeers
    }
    // roles file and recipients: build first, swap only when valid
    if (this.#lifecycle.started) await this.#keys.reload(next, this.#team?.policy)
    this.#config = next
    const choice = chooseBootstrapPeers(next)
    if (this.#join !== undefined) this.#join.reload(choice, this.#lifecycle.started)
  }

  /** Hang up on admitted peers the revocation list names (admission refuses them from now on). */
  #expelRevoked(list: RevocationList | undefined): void {
    const libp2p = this.#components?.libp2p
    if (list === undefined || libp2p === undefined) return
    const revoked = new Set(list.revoked.map((e) => Buffer.from(e.nodeKey).toString('hex')))
    for (const peer of libp2p.admittedPeers()) {
      let key: string
      try {
        key = Buffer.from(nodeKeyOfPeerId(peer.peer)).toString('hex')
      } catch {
        continue
      }
      if (revoked.has(key) && libp2p.expel(peer.peer)) {
        this.#log.info({ peer: peer.peer, agent: peer.agent }, 'expelled a revoked member')
      }
    }
  }

  async #refreshDHTStats(): Promise<void> {
    try {
      const libp2p = this.#components?.libp2p
      if (libp2p !== undefined && this.#lifecycle.started) this.#dhtStats = { ...(await libp2p.getStats()) }
    } catch {
      // stopping
    }
  }

  /** The components, or `AgentError` when the agent does not serve (not started, shutting down). */
  #ready(): AgentComponents {
    this.#lifecycle.assertServing()
    if (this.#components === undefined) {
      throw new AgentError('the agent is not ready yet', { code: AGENT_ERROR_CODES.NOT_READY })
    }
    return this.#components
  }

  #handoff(c: AgentComponents): HandoffComponents {
    return {
      replication: c.replication,
      storage: c.storage,
      lifecycle: this.#lifecycle,
      logger: this.#logger()
    }
  }

  // ------------------------------------------------------------------ service

  isReady(): boolean {
    return this.#lifecycle.isReady()
  }

  readiness(): Record<string, unknown> {
    return readinessView({
      started: this.#lifecycle.started,
      stopping: this.#lifecycle.stopping,
      joined: this.#join?.joined ?? false,
      dht: this.#components?.libp2p
    })
  }

  async store(request: StoreRequest): Promise<Record<string, unknown>> {
    const c = this.#ready()
    const stored = await this.#lifecycle.write(
      (async () => {
        const res = await c.storage.storeUCXLContent(
          request.address,
          request.content,
          this.#config.role,
          request.contentType
        )
        handOff(this.#handoff(c), { ...res, contentType: request.contentType })
        return res
      })()
    )
    return plain(stored) as Record<string, unknown>
  }

  delete(address: string, options: { purgeVersions?: boolean } = {}): Promise<DeleteResponse> {
    const c = this.#ready()
    const components = { storage: c.storage, lifecycle: this.#lifecycle, handoff: this.#handoff(c) }
    return deleteContent(components, this.#config.role, address, options.purgeVersions === true)
  }

  retrieve(address: string, options: { fresh?: boolean; from?: number } = {}): Promise<RetrieveResult> {
    return library.retrieve(this.#ready(), address, options)
  }

  list(role: string | undefined, limit: number): Promise<unknown[]> {
    return library.list(this.#ready(), role, limit)
  }

  async search(q: SearchQuery): Promise<unknown[]> {
    return plain(await this.#ready().storage.searchContent(library.storageQuery(q))) as unknown[]
  }

  versions(address: string, limit: number): Promise<Record<string, unknown>> {
    return library.versions(this.#ready(), address, limit)
  }
  announce(address: string): Promise<Record<string, unknown>> {
    return library.announce(this.#ready(), address)
  }
  discoverPeers(address: string): Promise<Record<string, unknown>> {
    return library.discoverPeers(this.#ready(), address)
  }
  providers(address: string, limit: number): Promise<Record<string, unknown>> {
    return library.providers(this.#ready(), address, limit)
  }
  findPeers(by: 'role' | 'capability', name: string): Promise<Record<string, unknown>> {
    return library.findPeers(this.#ready(), by, name)
  }

  async status(): Promise<Record<string, unknown>> {
    const c = this.#components
    if (c !== undefined && this.#lifecycle.started) await this.#refreshDHTStats()
    return statusView({
      agentId: this.agentId,
      role: this.#config.role,
      capabilities: this.#config.capabilities,
      peerId: this.peerId,
      multiaddrs: this.multiaddrs(),
      ready: this.isReady(),
      startedAt: this.#lifecycle.startedAt,
      now: Date.now(),
      heldRoles: this.#keys.held,
      team: this.#team,
      grantVersion: this.#teamSync?.grantVersion ?? 0,
      network: {
        joined: this.#join?.joined ?? false,
        bootstrapPeers: this.#join?.bootstrapPeers ?? [],
        bootstrapSource: this.#join?.bootstrapSource ?? 'config',
        lastJoin: this.#join?.lastJoin,
        dhtStats: this.#dhtStats
      },
      dht: c?.libp2p,
      hybrid: c?.hybrid,
      storage: c?.storage,
      replication: c?.replication
    })
  }

  async peers(): Promise<unknown[]> {
    return peersView(this.#components?.libp2p)
  }

  async replication(address?: string): Promise<Record<string, unknown>> {
    const { replication } = this.#ready()
    if (address === undefined) return replicationSummaryView(replication)
    const head = dhtKey(parseAddress(address))
    const status = await replication.getReplicationStatus(head, { signal: AbortSignal.timeout(20_000) })
    return plain({ address, ...status }) as Record<string, unknown>
  }

  async applyTeamRecords(records: TeamRecordInput[]): Promise<Record<string, unknown>> {
    this.#ready()
    const sync = this.#teamSync
    if (sync === undefined)
      throw new AgentError('the agent is not ready yet', { code: AGENT_ERROR_CODES.NOT_READY })
    const applied = await sync.apply(records)
    return { count: applied.length, records: applied }
  }

  async verifyAudit(): Promise<Record<string, unknown>> {
    const { storage } = this.#ready()
    return plain(await storage.verifyAuditLog()) as Record<string, unknown>
  }

  async hybrid(): Promise<Record<string, unknown>> {
    const { hybrid } = this.#ready()
    return plain(hybridView(hybrid)) as Record<string, unknown>
  }

  async switchBackend(mode: 'auto' | 'real' | 'mock'): Promise<Record<string, unknown>> {
    const { hybrid } = this.#ready()
    hybrid.switchBackend(mode)
    this.#log.info({ mode, active: hybrid.getActiveBackend() }, 'hybrid backend mode switched')
    return plain(hybridView(hybrid)) as Record<string, unknown>
  }

  metrics(): Record<string, unknown> {
    const c = this.#components
    return metricsView({
      dhtStats: this.#dhtStats,
      storage: c?.storage,
      replication: c?.replication,
      reputation: c?.libp2p.reputation,
      team: this.#team?.policy,
      hybrid: c?.hybrid
    })
  }
}
