import type { AbortOptions } from '@chorus/dht'

/** A content write as the API and CLI give it. */
export interface StoreRequest {
  address: string
  content: Uint8Array
  /** decision, suggestion, file, ... Default: `decision`. */
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
  retrieve(address: string, options?: AbortOptions & { fresh?: boolean }): Promise<RetrieveResult>
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
