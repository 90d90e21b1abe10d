import type { AbortOptions } from '@chorus/dht'

/** A content write as the API and CLI give it. */
export interface StoreRequest {
  address: string
  content: Uint8Array
  /** `decision` (validated as a decision record), `text/plain`, `application/json`, ... */
  contentType: string
}

/** What a delete answers: the tombstone's version. */
export interface DeleteResponse {
  address: string
  version: number
  deleted: true
  purgeVersions: boolean
  acks: number
}

export interface RetrieveResult {
  content: Uint8Array
  metadata: Record<string, unknown>
}

export interface SearchQuery {
  agent?: string
  role?: string
  project?: string
  task?: string
  contentType?: string
  createdAfter?: string
  createdBefore?: string
  /** An address pattern: `any` components, `*`/`**` path segments. */
  address?: string
  /** A decision's own fields (decisions this node stored or opened). */
  decisionTask?: string
  decisionAgent?: string
  decisionRole?: string
  /** Every version instead of the newest per address. */
  allVersions?: boolean
  limit?: number
}

/** A signed team record an administrator hands to the agent (manifest, revocation list, grant). */
export interface TeamRecordInput {
  key: string
  value: Uint8Array
}

/**
 * What the HTTP API needs from the running agent. The agent implements it over storage, replication,
 * hybrid and the DHT; keeping it narrow keeps the API testable and its error mapping in one place.
 */
export interface AgentService {
  readonly role: string
  readonly agentId: string
  readonly peerId: string
  /** Started and able to serve reads and writes. */
  isReady(): boolean
  /** Why the agent is not ready, for /readyz. */
  readiness(): Record<string, unknown>
  store(request: StoreRequest, options?: AbortOptions): Promise<Record<string, unknown>>
  /** `from`: the starting version of a forward segment `^^N` (default 1). */
  retrieve(
    address: string,
    options?: AbortOptions & { fresh?: boolean; from?: number }
  ): Promise<RetrieveResult>
  /** Every version of one address in this node's index, oldest first. */
  versions(address: string, limit: number): Promise<Record<string, unknown>>
  /** Announce this node as a provider of the address: the peers that acknowledged it. */
  announce(address: string): Promise<Record<string, unknown>>
  /** The peers whose provider records name the address. */
  discoverPeers(address: string): Promise<Record<string, unknown>>
  /** The address's providers with quality and XOR distance, best first. */
  providers(address: string, limit: number): Promise<Record<string, unknown>>
  /** Peers that announced a role, or a capability, on the DHT. */
  findPeers(by: 'role' | 'capability', name: string): Promise<Record<string, unknown>>
  /**
   * Deletes the address (a signed tombstone as the next version, as this agent's role); with
   * `purgeVersions`, every holder drops the earlier versions too. Resolves to
   * `{ address, version, deleted: true, purgeVersions, acks }`.
   */
  delete(address: string, options?: AbortOptions & { purgeVersions?: boolean }): Promise<DeleteResponse>
  list(role: string | undefined, limit: number): Promise<unknown[]>
  search(query: SearchQuery): Promise<unknown[]>
  status(): Promise<Record<string, unknown>>
  peers(): Promise<unknown[]>
  replication(address?: string): Promise<Record<string, unknown>>
  verifyAudit(): Promise<Record<string, unknown>>
  /**
   * Check signed team records with the team's record rules, take the newer ones (manifest,
   * revocation list, this agent's grant) and put them on the DHT.
   */
  applyTeamRecords(records: TeamRecordInput[]): Promise<Record<string, unknown>>
  /** Hybrid backend mode, active backend, health, journal. */
  hybrid(): Promise<Record<string, unknown>>
  /** Pin the network (`real`) or local (`mock`) backend, or let health decide (`auto`). */
  switchBackend(mode: 'auto' | 'real' | 'mock'): Promise<Record<string, unknown>>
  /** Numeric metrics by subsystem (`storage`, `replication`, `hybrid`, `dht`), for /metrics. */
  metrics(): Record<string, unknown>
}
