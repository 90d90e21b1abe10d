import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '@chorus/common'
import { AuditLog, type AuditSigner, type AuditTrail, DisabledAuditLog } from './audit.js'
import { diskError, StorageNotStartedError } from './errors.js'
import { LocalIndex } from './index-db.js'

/** What components read the index through: throws `StorageNotStartedError` outside start/stop. */
export interface IndexAccess {
  readonly index: LocalIndex
  /**
   * The index was created at this start (there was none before): a new node, or one whose data
   * directory was lost while its key was kept. An index kept from before holds every version this
   * node signed; a new one may not know what the node wrote before (see `headsFromNetwork`).
   */
  readonly createdNow?: boolean
}

export interface LocalStateInit {
  dataDir: string
  nodeId: string
  /** Off: no audit log is opened or appended to. */
  auditLogging: boolean
}

export interface LocalStateComponents {
  /** The node key the audit log's checkpoints are signed with. */
  signer: AuditSigner
  logger?: Logger
}

/**
 * This node's files under `dataDir`: the local index (`storage-index.sqlite`) and the audit log
 * (`audit.log`), opened at start, flushed and closed at stop.
 */
export class LocalState implements IndexAccess {
  readonly #c: LocalStateComponents
  readonly #init: LocalStateInit
  #index?: LocalIndex
  #audit?: AuditTrail
  #closing = false
  #createdNow = false

  constructor(components: LocalStateComponents, init: LocalStateInit) {
    this.#c = components
    this.#init = init
  }

  get index(): LocalIndex {
    if (this.#index === undefined || this.#closing) throw new StorageNotStartedError()
    return this.#index
  }

  get audit(): AuditTrail {
    if (this.#audit === undefined || this.#closing) throw new StorageNotStartedError()
    return this.#audit
  }

  get createdNow(): boolean {
    return this.#createdNow
  }

  /** Versions in the index; 0 when not started. */
  count(): number {
    return this.#index?.count() ?? 0
  }

  /** Opens both; a full or read-only disk is a typed error naming the data directory. */
  async start(): Promise<void> {
    if (this.#index !== undefined) return
    const { dataDir, nodeId, auditLogging } = this.#init
    let index: LocalIndex | undefined
    let audit: AuditTrail
    try {
      mkdirSync(dataDir, { recursive: true })
      const path = join(dataDir, 'storage-index.sqlite')
      this.#createdNow = !existsSync(path)
      index = new LocalIndex(path)
      if (auditLogging) {
        const log = new AuditLog(join(dataDir, 'audit.log'), nodeId, index, this.#c.signer, this.#c.logger)
        await log.init()
        audit = log
      } else {
        audit = new DisabledAuditLog()
      }
    } catch (err) {
      index?.close()
      throw diskError(err, dataDir, true) ?? err
    }
    this.#index = index
    this.#audit = audit
    this.#closing = false
  }

  /** From here on the storage counts as stopped: new operations fail with `StorageNotStartedError`. */
  beforeStop(): void {
    this.#closing = true
  }

  async stop(): Promise<void> {
    const audit = this.#audit
    const index = this.#index
    this.#audit = undefined
    this.#index = undefined
    await audit?.flush()
    index?.close()
  }
}
