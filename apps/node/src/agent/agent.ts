import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  type AgeCrypto,
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  loadRolesFile,
  type RoleKeyring,
  type RoleRegistry
} from '@chorus/crypto'
import {
  createLibP2PDHT,
  createLocalDHT,
  type LibP2PDHT,
  type LocalDHT,
  type Logger,
  PEER_ANNOUNCE_KEY
} from '@chorus/dht'
import { createHybridDHT, type HybridDHT } from '@chorus/hybrid'
import { createReplicationManager, type ReplicationManager } from '@chorus/replication'
import { chorusRecordRules, createEncryptedStorage, type EncryptedStorage } from '@chorus/storage'
import { dhtKey, parseAddress } from '@chorus/ucxl'
import type { Logger as PinoLogger } from 'pino'
import { chooseBootstrapPeers } from '../config/assignment.js'
import { ConfigError } from '../config/load.js'
import type { NodeConfig } from '../config/schema.js'
import { ensurePrivateDir, readSecretFile } from '../util/files.js'
import { addToRecipientsFile, type Recipients, readRecipientsFile } from './keys.js'
import type { AgentService, RetrieveResult, SearchQuery, StoreRequest } from './service.js'

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

/** An agent-level refusal, mapped to HTTP by its code. */
export class AgentError extends Error {
  readonly code: string
  constructor(message: string, code: 'AGENT_NOT_READY' | 'AGENT_SHUTTING_DOWN') {
    super(message)
    this.name = 'AgentError'
    this.code = code
  }
}

/** The file in the keys directory where the agent keeps the recipients it generated or learned. */
export const LOCAL_RECIPIENTS = 'recipients.yaml'

export async function createAgent(config: NodeConfig, logger: PinoLogger): Promise<Agent> {
  return new ChorusAgent(config, logger)
}

interface CryptoState {
  registry: RoleRegistry
  keyring: RoleKeyring
  crypto: AgeCrypto
  held: string[]
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      { once: true }
    )
  })

/** Serialise Dates as ISO strings for JSON answers. */
function plain<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)))
}

class ChorusAgent implements Agent {
  private config: NodeConfig
  private readonly log: PinoLogger
  private state: CryptoState | undefined
  private libp2p: LibP2PDHT | undefined
  private local: LocalDHT | undefined
  private hybridDht: HybridDHT | undefined
  private storage: EncryptedStorage | undefined
  private replicator: ReplicationManager | undefined
  private started = false
  private stopping = false
  private stopped: Promise<void> | undefined
  private readonly lifetime = new AbortController()
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly background = new Set<Promise<unknown>>()
  private readonly timers = new Set<ReturnType<typeof setInterval>>()
  private bootstrapPeers: string[] = []
  private bootstrapSource = 'config'
  private joined = false
  private announced = false
  private dhtStats: Record<string, unknown> = {}
  private startedAt = 0
  private resolvedAgentId = ''

  constructor(config: NodeConfig, logger: PinoLogger) {
    this.config = config
    this.log = logger
  }

  get role(): string {
    return this.config.role
  }
  get agentId(): string {
    return this.resolvedAgentId
  }
  get peerId(): string {
    return this.libp2p?.peerId ?? ''
  }
  multiaddrs(): string[] {
    return this.libp2p?.multiaddrs ?? []
  }

  private child(component: string): Logger {
    return this.log.child({ component }) as unknown as Logger
  }

  // ------------------------------------------------------------------ keys and roles

  /** Roles, keyring and crypto from the roles file, the identities directory and the recipients files. */
  private async loadCrypto(config: NodeConfig): Promise<CryptoState> {
    let registry: RoleRegistry
    try {
      registry = config.rolesFile === '' ? createRoleRegistry() : await loadRolesFile(config.rolesFile)
    } catch (err) {
      throw new ConfigError([`roles file ${config.rolesFile}: ${(err as Error).message}`], { cause: err })
    }
    if (!registry.has(config.role)) {
      throw new ConfigError([
        `role ${JSON.stringify(config.role)} is not a known role (${registry
          .list()
          .map((r) => r.name)
          .join(', ')})`
      ])
    }
    const keysDir = config.keys.dir
    ensurePrivateDir(keysDir)
    const keyring = createKeyring()
    await keyring.loadIdentities(keysDir)
    const localRecipients = join(keysDir, LOCAL_RECIPIENTS)
    const generated: string[] = []
    if (!keyring.holdsRole(config.role)) {
      if (!config.keys.generate) {
        throw new ConfigError([
          `no identity for role ${config.role} in ${keysDir} and keys.generate is false`
        ])
      }
      const key = generateRoleKey(config.role)
      keyring.addIdentity(key)
      await keyring.saveIdentities(keysDir)
      addToRecipientsFile(localRecipients, config.role, key.recipient)
      generated.push(config.role)
    }

    const recipients: Recipients = {}
    const files = [...(existsSync(localRecipients) ? [localRecipients] : []), ...config.keys.recipients]
    for (const file of files) {
      for (const [role, list] of Object.entries(readRecipientsFile(file))) {
        recipients[role] = [...new Set([...(recipients[role] ?? []), ...list])]
      }
    }
    // Embedded defaults (no recipients file given): generate the other readers' keys locally, into
    // <keys>/team/, so that a lone agent can store at once. A team shares a recipients file instead.
    if (config.keys.recipients.length === 0 && config.keys.generate) {
      for (const role of registry.decryptableRoles(config.role)) {
        if (recipients[role] !== undefined && recipients[role].length > 0) continue
        const teamDir = join(keysDir, 'team', role)
        ensurePrivateDir(teamDir)
        const ring = createKeyring()
        const key = generateRoleKey(role)
        ring.addIdentity(key)
        await ring.saveIdentities(teamDir)
        addToRecipientsFile(localRecipients, role, key.recipient)
        recipients[role] = [key.recipient]
        generated.push(role)
      }
    }
    for (const [role, list] of Object.entries(recipients)) {
      if (!registry.has(role)) {
        this.log.warn({ role }, 'recipients file names a role the registry does not know; ignored')
        continue
      }
      for (const r of list) keyring.addRecipient(role, r)
    }
    if (generated.length > 0) this.log.info({ roles: generated, keysDir }, 'generated role keys')
    const missing = registry
      .decryptableRoles(config.role)
      .filter((r) => (recipients[r] ?? []).length === 0 && !keyring.holdsRole(r))
    if (missing.length > 0 && registry.canStore(config.role)) {
      this.log.warn(
        { missing, recipientsFiles: config.keys.recipients },
        'no recipient for some roles that may read this role’s content: stores fail until a recipients file names them'
      )
    }
    const crypto = createAgeCrypto({ roles: registry, keyring })
    return { registry, keyring, crypto, held: keyring.roles() }
  }

  private cryptoState(): CryptoState {
    if (this.state === undefined) throw new AgentError('the agent is not started', 'AGENT_NOT_READY')
    return this.state
  }

  // ------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.started) return
    const c = this.config
    ensurePrivateDir(c.dataDir)
    this.state = await this.loadCrypto(c)
    const choice = chooseBootstrapPeers(c)
    this.bootstrapPeers = choice.peers
    this.bootstrapSource = choice.source

    const rules = chorusRecordRules()
    const psk = c.dht.pskFile === '' ? undefined : readSecretFile(c.dht.pskFile)
    this.libp2p = await createLibP2PDHT({
      dataDir: join(c.dataDir, 'libp2p'),
      listen: c.listen,
      bootstrapPeers: [],
      protocolPrefix: c.dht.protocolPrefix,
      bootstrapTimeout: c.dht.bootstrapTimeoutMs,
      discoveryInterval: c.dht.discoveryIntervalMs,
      autoBootstrap: true,
      autoBootstrapInterval: c.dht.autoBootstrapIntervalMs,
      peerCleanupInterval: c.dht.peerCleanupIntervalMs,
      mode: c.dht.mode,
      records: rules,
      ...(psk !== undefined ? { psk } : {}),
      agentVersion: 'chorus-node/0.1.0',
      role: c.role,
      capabilities: c.capabilities,
      logger: this.child('dht')
    })
    const libp2p = this.libp2p
    this.resolvedAgentId = c.agentId !== '' ? c.agentId : `agent-${libp2p.peerId.slice(-8)}`
    this.local = createLocalDHT({
      dataDir: join(c.dataDir, 'local'),
      records: rules,
      peerId: libp2p.peerId,
      logger: this.child('local-dht')
    })
    this.hybridDht = createHybridDHT(
      { primary: libp2p, fallback: this.local, logger: this.child('hybrid') },
      {
        dataDir: join(c.dataDir, 'hybrid'),
        probeInterval: c.hybrid.healthCheckIntervalMs,
        failureThreshold: c.hybrid.failureThreshold,
        operationTimeout: c.hybrid.operationTimeoutMs
      }
    )
    // Components see the current roles and keys through these, so SIGHUP can swap them.
    this.storage = createEncryptedStorage(
      {
        dht: this.hybridDht,
        crypto: {
          encryptUCXLContent: (content, role) => this.cryptoState().crypto.encryptUCXLContent(content, role),
          decryptWithRole: (ct) => this.cryptoState().crypto.decryptWithRole(ct),
          decryptableRoles: (role) => this.cryptoState().crypto.decryptableRoles(role)
        },
        roles: {
          has: (name) => this.cryptoState().registry.has(name),
          canStore: (name) => this.cryptoState().registry.canStore(name)
        },
        keyring: { holdsRole: (role) => this.cryptoState().keyring.holdsRole(role) },
        signer: libp2p.signer,
        peers: libp2p,
        // direct record protocol to the closest peers: the hybrid in front is not PeerMessaging
        messaging: libp2p,
        logger: this.child('storage')
      },
      {
        dataDir: join(c.dataDir, 'storage'),
        nodeId: libp2p.peerId,
        cacheTTL: c.storage.cacheTtlMs,
        cacheCleanupInterval: c.storage.cacheCleanupIntervalMs,
        maxContentBytes: c.storage.maxContentBytes,
        writeQuorum: c.storage.writeQuorum,
        retrieveConsistency: c.storage.readConsistency,
        storeTimeout: c.storage.writeTimeoutMs,
        retrieveTimeout: c.storage.readTimeoutMs
      }
    )
    const storage = this.storage
    const validate = rules.validators.CHORUS
    if (validate === undefined) throw new Error('storage rules have no CHORUS validator')
    this.replicator = createReplicationManager(
      {
        dht: this.hybridDht,
        messaging: libp2p,
        validate,
        ...(rules.selectors.CHORUS !== undefined ? { select: rules.selectors.CHORUS } : {}),
        logger: this.child('replication')
      },
      {
        dataDir: join(c.dataDir, 'replication'),
        protocolPrefix: c.dht.protocolPrefix,
        replicationFactor: c.replication.factor,
        reprovideInterval: c.replication.reprovideIntervalMs,
        republishInterval: c.replication.reprovideIntervalMs,
        cleanupInterval: c.replication.cleanupIntervalMs,
        repairInterval: c.replication.repairIntervalMs,
        providerTTL: c.replication.providerTtlMs,
        maxProvidersPerKey: c.replication.maxProvidersPerKey,
        maxConcurrentReplications: c.replication.maxConcurrent,
        enableAutoReplication: c.replication.autoReplicate,
        enableReprovide: c.replication.reprovide,
        onPinned: async (e) => {
          if (e.from === 'self') return
          await storage.indexEnvelope(e.value, 'replicated')
        }
      }
    )
    await this.hybridDht.start()
    await storage.start()
    await this.replicator.start()
    // a signal during start-up: stop() already ran over what existed then; close the rest
    if (this.stopping) {
      await this.replicator.stop()
      await this.hybridDht.stop()
      await storage.stop()
      await libp2p.close()
      await this.local.close()
      throw new AgentError('the agent was stopped during start-up', 'AGENT_SHUTTING_DOWN')
    }
    this.started = true
    this.startedAt = Date.now()
    this.every(5_000, () => this.refreshDhtStats())
    void this.refreshDhtStats()
    this.spawn(this.join())
    this.spawn(this.reconcile())
  }

  /** Join stagger, bootstrap, then announce role and capabilities; re-announce periodically. */
  private async join(): Promise<void> {
    const signal = this.lifetime.signal
    const delay = Math.floor(Math.random() * (this.config.joinStaggerMs + 1))
    if (this.bootstrapPeers.length > 0 && delay > 0) {
      this.log.info({ delayMs: delay }, 'join stagger')
      await sleep(delay, signal)
    }
    if (signal.aborted) return
    await this.bootstrap(this.bootstrapPeers)
    await this.announce()
    // until a first announcement reached a peer (the first agent of a network has none at start),
    // retry at the discovery pace; then refresh hourly (or at the reprovide interval when shorter)
    this.every(Math.min(this.config.dht.discoveryIntervalMs, 10_000), async () => {
      if (!this.announced) await this.announce()
    })
    this.every(Math.min(this.config.replication.reprovideIntervalMs, 60 * 60_000), () => this.announce())
  }

  private async bootstrap(peers: string[]): Promise<void> {
    const libp2p = this.libp2p
    if (libp2p === undefined || peers.length === 0) return
    try {
      await libp2p.bootstrap({ peers, signal: this.lifetime.signal })
      this.joined = true
      this.log.info(
        { peers: peers.length, source: this.bootstrapSource, routingTable: libp2p.getDHTSize() },
        'joined the network'
      )
    } catch (err) {
      if (this.lifetime.signal.aborted) return
      this.log.warn({ err: (err as Error).message }, 'bootstrap failed; auto-bootstrap keeps retrying')
    }
  }

  private async announce(): Promise<void> {
    const libp2p = this.libp2p
    if (libp2p === undefined || this.stopping) return
    const signal = this.lifetime.signal
    libp2p.registerPeer(libp2p.peerId, 'chorus-node/0.1.0', this.config.role, this.config.capabilities)
    if (libp2p.getConnectedPeers().length === 0) return
    const results = await Promise.allSettled([
      // the discovery key too: a first node never bootstraps, so the DHT does not announce it
      libp2p.provide(PEER_ANNOUNCE_KEY, { signal }),
      libp2p.announceRole(this.config.role, { signal }),
      ...this.config.capabilities.map((cap) => libp2p.announceCapability(cap, { signal }))
    ])
    const failed = results.filter((r) => r.status === 'rejected').length
    if (failed > 0) this.log.debug({ failed }, 'some announcements failed; retried later')
    else {
      this.announced = true
      this.log.info(
        { role: this.config.role, capabilities: this.config.capabilities },
        'announced role and capabilities'
      )
    }
  }

  private async refreshDhtStats(): Promise<void> {
    try {
      if (this.libp2p !== undefined && this.started) this.dhtStats = { ...(await this.libp2p.getStats()) }
    } catch {
      // stopping
    }
  }

  private every(ms: number, fn: () => Promise<void>): void {
    const t = setInterval(() => {
      if (!this.stopping) this.spawn(fn())
    }, ms)
    t.unref()
    this.timers.add(t)
  }

  private spawn(p: Promise<unknown>): void {
    const tracked = p.catch((err) =>
      this.log.warn({ err: (err as Error)?.message }, 'background task failed')
    )
    this.background.add(tracked)
    void tracked.finally(() => this.background.delete(tracked))
  }

  stop(): Promise<void> {
    this.stopped ??= this.doStop()
    return this.stopped
  }

  private async doStop(): Promise<void> {
    this.stopping = true
    for (const t of this.timers) clearInterval(t)
    this.timers.clear()
    const step = async (name: string, fn: () => Promise<unknown> | undefined) => {
      const t = Date.now()
      try {
        await fn()
        this.log.debug({ step: name, ms: Date.now() - t }, 'shutdown step done')
      } catch (err) {
        this.log.error({ step: name, err: (err as Error)?.message }, 'shutdown step failed')
      }
    }
    // finish in-flight writes (acknowledged ones are already durable; these get their answer)
    await step('in-flight writes', () => Promise.allSettled([...this.inflight]))
    this.lifetime.abort()
    // background tasks got the abort; give them a moment to unwind, never the whole shutdown budget
    await step('background tasks', () =>
      Promise.race([
        Promise.allSettled([...this.background]),
        new Promise((r) => setTimeout(r, 3000).unref())
      ])
    )
    await step('replication', () => this.replicator?.stop())
    await step('hybrid journal', () => this.hybridDht?.stop())
    await step('storage and index', () => this.storage?.stop())
    await step('libp2p', () => this.libp2p?.close())
    await step('local datastore', () => this.local?.close())
    this.started = false
  }

  async reload(config: NodeConfig): Promise<void> {
    const next: NodeConfig = {
      ...this.config,
      log: config.log,
      rolesFile: config.rolesFile,
      keys: config.keys,
      assignmentFile: config.assignmentFile,
      bootstrapPeers: config.bootstrapPeers
    }
    // roles file and recipients: build first, swap only when valid
    if (this.started) this.state = await this.loadCrypto(next)
    this.config = next
    const choice = chooseBootstrapPeers(next)
    const added = choice.peers.filter((p) => !this.bootstrapPeers.includes(p))
    this.bootstrapPeers = choice.peers
    this.bootstrapSource = choice.source
    this.log.info(
      { bootstrapPeers: choice.peers.length, source: choice.source, added: added.length },
      'bootstrap peers reloaded'
    )
    if (added.length > 0 && this.started) this.spawn(this.bootstrap(added).then(() => this.announce()))
  }

  // ------------------------------------------------------------------ service

  isReady(): boolean {
    return this.started && !this.stopping
  }

  readiness(): Record<string, unknown> {
    return {
      started: this.started,
      stopping: this.stopping,
      joined: this.joined,
      connectedPeers: this.libp2p?.getConnectedPeers().length ?? 0
    }
  }

  private ready(): { storage: EncryptedStorage; replication: ReplicationManager; libp2p: LibP2PDHT } {
    if (this.stopping) throw new AgentError('the agent is shutting down', 'AGENT_SHUTTING_DOWN')
    if (
      !this.started ||
      this.storage === undefined ||
      this.replicator === undefined ||
      this.libp2p === undefined
    ) {
      throw new AgentError('the agent is not ready yet', 'AGENT_NOT_READY')
    }
    return { storage: this.storage, replication: this.replicator, libp2p: this.libp2p }
  }

  async store(request: StoreRequest): Promise<Record<string, unknown>> {
    const { storage, replication } = this.ready()
    const work = (async () => {
      const res = await storage.storeUCXLContent(
        request.address,
        request.content,
        this.config.role,
        request.contentType
      )
      this.manage(replication, res.baseAddress, res.version, res.size, request.contentType)
      return res
    })()
    this.inflight.add(work)
    try {
      return plain(await work) as Record<string, unknown>
    } finally {
      this.inflight.delete(work)
    }
  }

  /** Keep both records of a stored version (immutable version key and head) on the target number of nodes. */
  private manage(
    replication: ReplicationManager,
    base: string,
    version: number,
    size: number,
    contentType: string
  ): void {
    const head = dhtKey(parseAddress(base))
    for (const key of [`${head}/v/${version}`, head]) {
      this.spawn(
        replication.addContent(key, size, contentType === 'decision' ? 2 : 1, {
          signal: this.lifetime.signal
        })
      )
    }
  }

  /**
   * After a restart: what this node wrote but replication does not manage yet (a shutdown that
   * came between the acknowledgement and the pin) is handed to replication again.
   */
  private async reconcile(): Promise<void> {
    const { storage, replication, libp2p } = this.ready()
    const author = Buffer.from(libp2p.signer.publicKey).toString('hex')
    const managed = new Set(replication.listContent())
    let added = 0
    for (const m of await storage.searchContent({ limit: 1000 })) {
      if (m.author !== author) continue
      const head = dhtKey(parseAddress(m.baseAddress))
      if (managed.has(head) && managed.has(`${head}/v/${m.version}`)) continue
      this.manage(replication, m.baseAddress, m.version, m.size, m.contentType)
      added++
    }
    if (added > 0) this.log.info({ added }, 'handed unmanaged records back to replication')
  }

  async retrieve(address: string, options: { fresh?: boolean } = {}): Promise<RetrieveResult> {
    const { storage } = this.ready()
    if (options.fresh === true) storage.invalidateCache(address)
    const res = await storage.retrieveUCXLContent(address)
    return {
      content: res.content,
      metadata: { ...(plain(res.metadata) as Record<string, unknown>), source: res.source }
    }
  }

  async list(role: string | undefined, limit: number): Promise<unknown[]> {
    const { storage } = this.ready()
    const items =
      role === undefined
        ? await storage.searchContent({ limit })
        : await storage.listContentByRole(role, limit)
    return plain(items) as unknown[]
  }

  async search(q: SearchQuery): Promise<unknown[]> {
    const { storage } = this.ready()
    const items = await storage.searchContent({
      ...(q.agent !== undefined ? { agent: q.agent } : {}),
      ...(q.role !== undefined ? { role: q.role } : {}),
      ...(q.project !== undefined ? { project: q.project } : {}),
      ...(q.task !== undefined ? { task: q.task } : {}),
      ...(q.contentType !== undefined ? { contentType: q.contentType } : {}),
      ...(q.createdAfter !== undefined ? { createdAfter: new Date(q.createdAfter) } : {}),
      ...(q.createdBefore !== undefined ? { createdBefore: new Date(q.createdBefore) } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {})
    })
    return plain(items) as unknown[]
  }

  async status(): Promise<Record<string, unknown>> {
    const libp2p = this.libp2p
    if (libp2p !== undefined && this.started) await this.refreshDhtStats()
    return plain({
      agentId: this.agentId,
      role: this.config.role,
      capabilities: this.config.capabilities,
      peerId: this.peerId,
      multiaddrs: this.multiaddrs(),
      ready: this.isReady(),
      uptimeSeconds: this.startedAt === 0 ? 0 : Math.round((Date.now() - this.startedAt) / 1000),
      heldRoles: this.state?.held ?? [],
      network: {
        joined: this.joined,
        bootstrapped: libp2p?.isBootstrapped() ?? false,
        bootstrapPeers: this.bootstrapPeers,
        bootstrapSource: this.bootstrapSource,
        connectedPeers: libp2p?.getConnectedPeers().length ?? 0,
        dht: this.dhtStats
      },
      hybrid: this.hybridStatus(),
      storage: this.storage?.getMetrics(),
      replication: this.replicator?.getMetrics()
    }) as Record<string, unknown>
  }

  private hybridStatus(): unknown {
    const h = this.hybridDht
    if (h === undefined) return undefined
    return {
      mode: h.getMode(),
      activeBackend: h.getActiveBackend(),
      pendingWrites: h.pendingWrites(),
      backends: h.getBackendHealth(),
      metrics: h.getMetrics()
    }
  }

  async peers(): Promise<unknown[]> {
    const libp2p = this.libp2p
    if (libp2p === undefined) return []
    const known = new Map(libp2p.getKnownPeers().map((p) => [p.id, p]))
    return libp2p.getConnectedPeers().map((id) => {
      const k = known.get(id)
      return {
        id,
        role: k?.role ?? '',
        capabilities: k?.capabilities ?? [],
        agentVersion: k?.agentVersion ?? '',
        multiaddrs: k?.multiaddrs ?? []
      }
    })
  }

  async replication(address?: string): Promise<Record<string, unknown>> {
    const { replication } = this.ready()
    if (address === undefined) {
      return plain({ metrics: replication.getMetrics(), keys: replication.listContent().length }) as Record<
        string,
        unknown
      >
    }
    const head = dhtKey(parseAddress(address))
    const status = await replication.getReplicationStatus(head, { signal: AbortSignal.timeout(20_000) })
    return plain({ address, ...status }) as Record<string, unknown>
  }

  async verifyAudit(): Promise<Record<string, unknown>> {
    const { storage } = this.ready()
    return plain(await storage.verifyAuditLog()) as Record<string, unknown>
  }

  async hybrid(): Promise<Record<string, unknown>> {
    this.ready()
    return plain(this.hybridStatus()) as Record<string, unknown>
  }

  async switchBackend(mode: 'auto' | 'real' | 'mock'): Promise<Record<string, unknown>> {
    this.ready()
    const h = this.hybridDht
    if (h === undefined) throw new AgentError('the agent is not ready yet', 'AGENT_NOT_READY')
    h.switchBackend(mode)
    this.log.info({ mode, active: h.getActiveBackend() }, 'hybrid backend mode switched')
    return plain(this.hybridStatus()) as Record<string, unknown>
  }

  metrics(): Record<string, unknown> {
    const out: Record<string, unknown> = { dht: this.dhtStats }
    try {
      if (this.storage !== undefined) out.storage = this.storage.getMetrics()
      if (this.replicator !== undefined) out.replication = this.replicator.getMetrics()
      // Peers penalised and banned for invalid records or floods (chorus_reputation_*).
      const reputation = this.libp2p?.reputation
      if (reputation !== undefined) out.reputation = reputation.stats()
      if (this.hybridDht !== undefined) {
        const health = this.hybridDht.getBackendHealth()
        out.hybrid = {
          ...this.hybridDht.getMetrics(),
          // strings are not Prometheus values: 1 when the network backend serves, per-backend failed flags
          realActive: this.hybridDht.getActiveBackend() === 'real',
          realFailed: health.real.status === 'failed',
          mockFailed: health.mock.status === 'failed'
        }
      }
    } catch {
      // a component that is stopping reports nothing
    }
    return out
  }
}
