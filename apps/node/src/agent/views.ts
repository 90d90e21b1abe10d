/**
 * What the API serves about the agent (status, readiness, peers, hybrid, replication, metrics),
 * as pure functions of the components: each takes the narrow parts of the components it reads,
 * so each is unit-testable with small fakes and no network.
 */
import { isRelayed, type LibP2PDHT } from '@chorus/dht'
import type { HybridDHT } from '@chorus/hybrid'
import type { ReplicationManager } from '@chorus/replication'
import type { EncryptedStorage } from '@chorus/storage'
import type { JoinAttempt } from './join.js'

/** A JSON-safe copy: Dates as ISO strings, bigints as numbers. */
export function plain<T>(value: T): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)))
}

/** What the hybrid view reads. */
export type HybridSource = Pick<
  HybridDHT,
  'getMode' | 'getActiveBackend' | 'pendingWrites' | 'getBackendHealth' | 'getMetrics'
>

/** The hybrid DHT's mode, active backend, journal size, per-backend health and metrics. */
export function hybridView(hybrid: HybridSource) {
  return {
    mode: hybrid.getMode(),
    activeBackend: hybrid.getActiveBackend(),
    pendingWrites: hybrid.pendingWrites(),
    backends: hybrid.getBackendHealth(),
    metrics: hybrid.getMetrics()
  }
}

/** What the readiness view reads. */
export interface ReadinessInput {
  started: boolean
  stopping: boolean
  joined: boolean
  dht?: Pick<LibP2PDHT, 'getConnectedPeers'> | undefined
}

/** The body of /readyz besides `ready`. */
export function readinessView(input: ReadinessInput): Record<string, unknown> {
  return {
    started: input.started,
    stopping: input.stopping,
    joined: input.joined,
    connectedPeers: input.dht?.getConnectedPeers().length ?? 0
  }
}

/** What the peers view reads. */
export type PeersSource = Pick<LibP2PDHT, 'getConnectedPeers' | 'getKnownPeers'> &
  Partial<Pick<LibP2PDHT, 'admittedPeer' | 'reputation' | 'libp2p'>>

/** One open connection to a peer: who dialled, and whether it runs over a relay (a circuit). */
export interface PeerConnectionView {
  direction: 'inbound' | 'outbound'
  relayed: boolean
  remoteAddress: string
}

interface PeerPaths {
  /** The round-trip time libp2p's connection monitor last measured (ms), when it has. */
  rtt?: number
  connections: PeerConnectionView[]
}

/** Each connected peer's connections and round-trip time, from libp2p's open connections. */
function pathsByPeer(dht: PeersSource): Map<string, PeerPaths> | undefined {
  if (dht.libp2p === undefined) return undefined
  const paths = new Map<string, PeerPaths>()
  for (const conn of dht.libp2p.getConnections()) {
    const id = conn.remotePeer.toString()
    const p = paths.get(id) ?? { connections: [] }
    if (typeof conn.rtt === 'number' && p.rtt === undefined) p.rtt = Math.round(conn.rtt * 10) / 10
    p.connections.push({
      direction: conn.direction,
      relayed: isRelayed(conn),
      remoteAddress: conn.remoteAddr.toString()
    })
    paths.set(id, p)
  }
  return paths
}

/**
 * The connected peers with what they announced (role, capabilities, version, addresses), their
 * latency and their reputation (penalty points; 0 is a clean record).
 */
export function peersView(dht: PeersSource | undefined): unknown[] {
  if (dht === undefined) return []
  const known = new Map(dht.getKnownPeers().map((p) => [p.id, p]))
  const paths = pathsByPeer(dht)
  const reputation = dht.reputation
  return dht.getConnectedPeers().map((id) => {
    const k = known.get(id)
    // what the peer's certificate proves (admission), beside what it announced
    const member = dht.admittedPeer?.(id)
    return {
      id,
      agent: member?.agent ?? '',
      certifiedRoles: member?.roles ?? [],
      role: k?.role ?? '',
      capabilities: k?.capabilities ?? [],
      agentVersion: k?.agentVersion ?? '',
      multiaddrs: k?.multiaddrs ?? [],
      // latency (ms, null before the first ping), the open connections (direct or relayed) and
      // penalty points, when the node measures them
      ...(paths !== undefined
        ? { latencyMs: paths.get(id)?.rtt ?? null, connections: paths.get(id)?.connections ?? [] }
        : {}),
      ...(reputation !== undefined
        ? {
            reputation: {
              score: Math.round(reputation.score(id) * 100) / 100,
              banned: reputation.isBanned(id)
            }
          }
        : {})
    }
  })
}

/** What the status view reads. */
export interface StatusInput {
  agentId: string
  role: string
  capabilities: string[]
  peerId: string
  multiaddrs: string[]
  ready: boolean
  /** Epoch ms of the start; 0 when not started. */
  startedAt: number
  /** Epoch ms of now. */
  now: number
  heldRoles: string[]
  /** The agent's team and certificate. */
  team?: TeamSource | undefined
  /** The version of this agent's installed key grant (0: none). */
  grantVersion?: number
  network: {
    joined: boolean
    bootstrapPeers: string[]
    bootstrapSource: string
    /** The last join's random stagger and when it dialled. */
    lastJoin?: JoinAttempt | undefined
    /** The last DHT statistics read. */
    dhtStats: Record<string, unknown>
  }
  dht?: Pick<LibP2PDHT, 'isBootstrapped' | 'getConnectedPeers'> | undefined
  hybrid?: HybridSource | undefined
  storage?: Pick<EncryptedStorage, 'getMetrics'> | undefined
  replication?: Pick<ReplicationManager, 'getMetrics'> | undefined
}

/** What the status view reads of the team. */
export interface TeamSource {
  policy: {
    teamId: string
    manifest: {
      version: number
      recipients: Record<string, ReadonlyArray<{ keyId: string; status: string; createdAt: number }>>
    }
    revocations?: { version: number; revoked: ReadonlyArray<{ agent: string }> } | undefined
  }
  certificate: { agent: string; roles: string[]; serial: number; notBefore: number; notAfter: number }
  embedded: boolean
}

/** The team part of /v1/status: the team, its manifest version and this agent's certificate. */
export function teamView(
  team: TeamSource | undefined,
  grantVersion = 0
): Record<string, unknown> | undefined {
  if (team === undefined) return undefined
  const c = team.certificate
  const revocations = team.policy.revocations
  return {
    id: team.policy.teamId,
    manifestVersion: team.policy.manifest.version,
    embedded: team.embedded,
    // each role's current key(s): what new content is encrypted to, and when it was made
    roleKeys: Object.fromEntries(
      Object.entries(team.policy.manifest.recipients).map(([role, keys]) => [
        role,
        {
          current: keys
            .filter((k) => k.status === 'current')
            .map((k) => ({ keyId: k.keyId, createdAt: new Date(k.createdAt).toISOString() })),
          retired: keys.filter((k) => k.status === 'retired').length
        }
      ])
    ),
    revocations: {
      version: revocations?.version ?? 0,
      revoked: revocations?.revoked.map((e) => e.agent) ?? []
    },
    grantVersion,
    certificate: {
      agent: c.agent,
      roles: c.roles,
      serial: c.serial,
      notBefore: new Date(c.notBefore).toISOString(),
      notAfter: new Date(c.notAfter).toISOString()
    }
  }
}

/** The body of /v1/status. */
export function statusView(input: StatusInput): Record<string, unknown> {
  return plain({
    agentId: input.agentId,
    role: input.role,
    capabilities: input.capabilities,
    peerId: input.peerId,
    multiaddrs: input.multiaddrs,
    ready: input.ready,
    uptimeSeconds: input.startedAt === 0 ? 0 : Math.round((input.now - input.startedAt) / 1000),
    heldRoles: input.heldRoles,
    team: teamView(input.team, input.grantVersion),
    network: {
      joined: input.network.joined,
      bootstrapped: input.dht?.isBootstrapped() ?? false,
      bootstrapPeers: input.network.bootstrapPeers,
      bootstrapSource: input.network.bootstrapSource,
      lastJoin: input.network.lastJoin ?? null,
      connectedPeers: input.dht?.getConnectedPeers().length ?? 0,
      dht: input.network.dhtStats
    },
    hybrid: input.hybrid === undefined ? undefined : hybridView(input.hybrid),
    storage: input.storage?.getMetrics(),
    replication: input.replication?.getMetrics()
  }) as Record<string, unknown>
}

/** The body of /v1/replication without an address: the metrics and the number of managed keys. */
export function replicationSummaryView(
  replication: Pick<ReplicationManager, 'getMetrics'>
): Record<string, unknown> {
  // the managed keys' count is a counter replication keeps (no listing of every key)
  const metrics = replication.getMetrics()
  return plain({ metrics, keys: metrics.totalKeys }) as Record<string, unknown>
}

/** What the metrics view reads. */
export interface MetricsInput {
  dhtStats: Record<string, unknown>
  storage?: Pick<EncryptedStorage, 'getMetrics'> | undefined
  replication?: Pick<ReplicationManager, 'getMetrics'> | undefined
  /** Peers penalised and banned for invalid records or floods (`chorus_reputation_*`). */
  reputation?: { stats(): unknown } | undefined
  /** The team policy's figures: manifest version, certificates verified and refused (`chorus_team_*`). */
  team?: { stats(): unknown } | undefined
  hybrid?: Pick<HybridDHT, 'getMetrics' | 'getActiveBackend' | 'getBackendHealth'> | undefined
}

/**
 * Numeric metrics by subsystem for /metrics (`dht`, `storage`, `replication`, `reputation`,
 * `hybrid`). A component that is stopping and throws reports nothing more.
 */
export function metricsView(input: MetricsInput): Record<string, unknown> {
  const out: Record<string, unknown> = { dht: input.dhtStats }
  try {
    if (input.storage !== undefined) out.storage = input.storage.getMetrics()
    if (input.replication !== undefined) out.replication = input.replication.getMetrics()
    if (input.reputation !== undefined) out.reputation = input.reputation.stats()
    if (input.team !== undefined) out.team = input.team.stats()
    if (input.hybrid !== undefined) {
      const health = input.hybrid.getBackendHealth()
      out.hybrid = {
        ...input.hybrid.getMetrics(),
        // strings are not Prometheus values: 1 when the network backend serves, per-backend failed flags
        realActive: input.hybrid.getActiveBackend() === 'real',
        realFailed: health.real.status === 'failed',
        mockFailed: health.mock.status === 'failed'
      }
    }
  } catch {
    // a component that is stopping reports nothing
  }
  return out
}
