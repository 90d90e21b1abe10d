import { matchesAddress } from '@chorus/ucxl'
import { resolveAddress, versionKey } from './address.js'
import type { AuditInput } from './audit.js'
import type { AuditedOperations } from './audited.js'
import { type Envelope, envelopeHash, envelopeName, isTombstone } from './envelope.js'
import { IntegrityError, InvalidAddressError } from './errors.js'
import type { KnownHolders } from './holders.js'
import type { IndexRow, IndexSource } from './index-db.js'
import type { IndexAccess } from './local-state.js'
import { envelopeMetadata, hex, rowMetadata } from './metadata.js'
import { type Candidate, consistent } from './read/candidates.js'
import type { RecordCheck } from './record-check.js'
import type { Tombstones } from './tombstones.js'
import type { SearchQuery, UCXLMetadata } from './types.js'

export interface CatalogComponents {
  local: IndexAccess
  operations: Pick<AuditedOperations, 'run'>
  /** The record check a record received another way must pass (team mode: the write rule too). */
  check: RecordCheck
  /** Who is known to hold a record (`dhtPeers`), without a network query. */
  holders: KnownHolders
  /** Where a tombstone received this way is reported (the facade drops the address). */
  tombstones: Pick<Tombstones, 'observe'>
}

export interface CatalogInit {
  /** Most results of a list or a search. */
  maxListResults: number
  /** The target replication factor, reported as `replicationFactor`. */
  replicationFactor: number
}

const time = (v: Date | number | undefined): number | undefined =>
  v === undefined ? undefined : v instanceof Date ? v.getTime() : v

/** A search query as the audit log records it: its set fields, as strings, numbers or booleans. */
function auditedQuery(query: SearchQuery): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null) continue
    out[k] = v instanceof Date ? v.getTime() : typeof v === 'number' || typeof v === 'boolean' ? v : String(v)
  }
  return out
}

/**
 * The local index as the API shows it: list by role, search, the newest local version, and the
 * indexing of records received another way (replication).
 */
export class Catalog {
  readonly #c: CatalogComponents
  readonly #init: CatalogInit

  constructor(components: CatalogComponents, init: CatalogInit) {
    this.#c = components
    this.#init = init
  }

  /** The audited list: the newest version per address created by `role`. */
  listByRole(role: string, limit = 100): Promise<UCXLMetadata[]> {
    const entry: AuditInput = {
      op: 'list',
      role: String(role),
      query: { limit: Number(limit) },
      success: false
    }
    return this.#c.operations.run(entry, {}, async () => {
      const { index } = this.#c.local
      const out = index
        .query({ creatorRole: role, allVersions: false }, this.limit(limit))
        .map((row) => this.metadata(row))
      entry.results = out.length
      return out
    })
  }

  /** The audited search: the query's fields are recorded, never any content. */
  search(query: SearchQuery = {}): Promise<UCXLMetadata[]> {
    const entry: AuditInput = { op: 'search', query: auditedQuery(query), success: false }
    return this.#c.operations.run(entry, {}, async () => {
      const out = this.#search(query)
      entry.results = out.length
      return out
    })
  }

  #search(query: SearchQuery): UCXLMetadata[] {
    const { index } = this.#c.local
    let accept: ((row: IndexRow) => boolean) | undefined
    const pattern = query.address
    if (pattern !== undefined) {
      try {
        matchesAddress(pattern, 'ucxl://a:b@c:d/*^')
      } catch (err) {
        throw new InvalidAddressError(pattern, (err as Error).message, { cause: err })
      }
      accept = (row) => matchesAddress(pattern, row.address)
    }
    return index
      .query(
        {
          agent: query.agent,
          role: query.role,
          project: query.project,
          task: query.task,
          contentType: query.contentType,
          createdAfter: time(query.createdAfter),
          createdBefore: time(query.createdBefore),
          decisionTask: query.decisionTask,
          decisionAgent: query.decisionAgent,
          decisionRole: query.decisionRole,
          allVersions: query.allVersions ?? false
        },
        this.limit(query.limit ?? 100),
        accept
      )
      .map((row) => this.metadata(row))
  }

  /** The newest version of the address in the index. */
  localVersion(address: string): number | undefined {
    return this.#c.local.index.getChain(resolveAddress(address).base)?.highest
  }

  /**
   * The audited `indexEnvelope`: checks a record received another way (the record check under its
   * version key) and indexes it.
   */
  indexEnvelope(bytes: Uint8Array, source: IndexSource = 'replicated'): Promise<UCXLMetadata> {
    const { index } = this.#c.local
    const entry: AuditInput = { op: 'index', address: '(unknown)', success: false }
    // The address is known only once the envelope opens, so errors name the entry's address.
    return this.#c.operations.run(entry, { failOnEntryAddress: true }, async () => {
      let e: Envelope
      try {
        // the name alone (the check decodes strictly, and a record that came through another
        // path of this node is found verified)
        const named = envelopeName(bytes)
        e = this.#c.check(versionKey(resolveAddress(named.address).digest, named.version), bytes)
      } catch (err) {
        throw new IntegrityError('(envelope)', (err as Error).message, { cause: err })
      }
      const r = resolveAddress(e.address)
      entry.address = r.base
      entry.version = e.version
      entry.role = e.metadata.creatorRole
      entry.size = e.metadata.size
      const hash = envelopeHash(bytes)
      const c: Candidate = { envelope: e, bytes, hash, hashHex: hex(hash), from: new Set(['self']) }
      const chain = index.getChain(r.base)
      if (chain !== undefined && chain.author !== hex(e.author)) {
        throw new IntegrityError(r.base, 'signed by another author than the versions this node holds')
      }
      if (consistent(index, r, [c]).length === 0) {
        throw new IntegrityError(r.base, `version ${e.version} conflicts with the chain this node holds`)
      }
      index.add(r.parsed, r.digest, e, bytes, hash, source)
      if (isTombstone(e)) this.#c.tombstones.observe({ envelope: e, digest: r.digest })
      return envelopeMetadata(
        r.parsed,
        e,
        hash,
        this.#c.holders.of(versionKey(r.digest, e.version)),
        this.#init.replicationFactor
      )
    })
  }

  private limit(n: number): number {
    return Math.min(Math.max(0, Math.floor(n)), this.#init.maxListResults)
  }

  private metadata(row: IndexRow): UCXLMetadata {
    return rowMetadata(
      row,
      this.#init.replicationFactor,
      this.#c.holders.of(versionKey(row.digest, row.version))
    )
  }
}
