import { abortError, createRefusalLog, type RefusalLog, silentLogger, throwIfAborted } from '@chorus/common'
import { type LocalDHTInit, localDHTDefaults } from '../config.js'
import type {
  AbortOptions,
  ClosestPeersOptions,
  DHT,
  FindProvidersOptions,
  GetOptions,
  Logger,
  PeerInfo,
  ProvideOptions,
  ProvideResult,
  PutOptions,
  PutResult,
  ReceivedValue
} from '../contract.js'
import {
  dhtNotFound,
  dhtNotStarted,
  EquivocationError,
  InvalidKeyError,
  InvalidRecordError,
  StaleRecordError
} from '../errors.js'
import { checkSuccession } from '../succession.js'
import { checkKey, checkValue, keyBytes, namespaceOf } from './keys.js'
import { RecordStore } from './store.js'

export type { LocalDHTInit }

export interface LocalDHTStats {
  /** Records held. */
  totalKeys: number
  /** Keys this node provides. */
  totalProvided: number
  /** Milliseconds since the last start. */
  uptime: number
}

/**
 * The `DHT` contract in one process with persistent storage: the reference's "mock" backend made
 * real. Puts are validated and stored locally and report zero remote acknowledgements, provides
 * report zero peers (it has no peers; it never throws `NoPeersAcknowledgedError`: everything it
 * holds is local by design). `createLocalDHT` returns it started.
 */
export interface LocalDHT extends DHT {
  /** The id reported as provider (see `LocalDHTInit.peerId`). */
  readonly peerId: string
  /** Opens the store again after `stop()`. Idempotent. Throws `NotStartedError` after `close()`. */
  start(): Promise<void>
  /** Closes the store; operations throw `NotStartedError` until `start()`. Idempotent. */
  stop(): Promise<void>
  /** Stops for good. Idempotent. */
  close(): Promise<void>
  isStarted(): boolean
  getStats(): LocalDHTStats
}

const NAME = 'LocalDHT'

class LocalDHTImpl implements LocalDHT {
  readonly peerId: string
  readonly #init: LocalDHTInit
  readonly #log: Logger | undefined
  /** Refused records, logged at a bounded rate and size (the hybrid replays what peers wrote). */
  readonly #refusals: RefusalLog
  #store: RecordStore | undefined
  #closed = false
  #startedAt = 0

  constructor(init: LocalDHTInit) {
    this.#init = init
    this.peerId = init.peerId ?? localDHTDefaults.peerId
    this.#log = init.logger
    this.#refusals = createRefusalLog(init.logger ?? silentLogger, { level: 'debug' })
    // Opening is synchronous (node:sqlite), so the factory hands back a started instance and a
    // bad dataDir throws right there.
    this.#open()
  }

  async start(): Promise<void> {
    this.#open()
  }

  #open(): void {
    if (this.#closed) throw dhtNotStarted(`${NAME} (closed)`)
    if (this.#store !== undefined) return
    this.#store = new RecordStore(this.#init.dataDir, this.#init.synchronous ?? localDHTDefaults.synchronous)
    this.#startedAt = Date.now()
    this.#log?.debug({ dataDir: this.#init.dataDir ?? ':memory:' }, 'local dht started')
  }

  async stop(): Promise<void> {
    this.#store?.close()
    this.#store = undefined
  }

  async close(): Promise<void> {
    await this.stop()
    this.#closed = true
  }

  isStarted(): boolean {
    return this.#store !== undefined
  }

  #started(): RecordStore {
    if (this.#store === undefined) throw dhtNotStarted(this.#closed ? `${NAME} (closed)` : NAME)
    return this.#store
  }

  getStats(): LocalDHTStats {
    const store = this.#started()
    return {
      totalKeys: store.count(),
      totalProvided: store.providerCount(),
      uptime: Date.now() - this.#startedAt
    }
  }

  async putValue(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    this.#started()
    throwIfAborted(options.signal)
    namespaceOf(key)
    checkValue(key, value)
    await this.#validate(key, value)
    // The validator may have awaited: re-check both conditions before writing.
    if (options.signal?.aborted === true) throw abortError(options.signal)
    const store = this.#started()
    const copy = new Uint8Array(value)
    const existing = store.get(key)
    if (existing !== undefined && !this.#succeeds(key, copy, existing.value)) {
      this.#log?.debug({ key }, 'local dht kept the stored record: the incoming one may not replace it')
      return { key, acks: [], storedLocally: false }
    }
    await store.put(key, copy, Date.now())
    return { key, acks: [], storedLocally: true }
  }

  async removeLocal(key: string, options: AbortOptions = {}): Promise<boolean> {
    const store = this.#started()
    throwIfAborted(options.signal)
    return store.remove(key)
  }

  async getValue(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const store = this.#started()
    throwIfAborted(options.signal)
    const record = typeof key === 'string' ? store.get(key) : undefined
    if (record === undefined) throw dhtNotFound(String(key))
    return record.value
  }

  /** Like LibP2PDHT: an empty list (not `NotFoundError`) when the key holds nothing. */
  async getValues(key: string, options: GetOptions = {}): Promise<ReceivedValue[]> {
    const store = this.#started()
    throwIfAborted(options.signal)
    const record = typeof key === 'string' ? store.get(key) : undefined
    return record === undefined ? [] : [{ value: record.value, from: 'self' }]
  }

  /** Records the key as provided by this process; no peer hears of it, so `peers` is empty. */
  async provide(key: string, options: ProvideOptions = {}): Promise<ProvideResult> {
    const store = this.#started()
    throwIfAborted(options.signal)
    checkKey(key)
    await store.provide(key, Date.now())
    return { key, peers: [] }
  }

  async findProviders(key: string, options: FindProvidersOptions = {}): Promise<PeerInfo[]> {
    const store = this.#started()
    throwIfAborted(options.signal)
    const limit = options.limit ?? 20
    if (limit <= 0 || typeof key !== 'string' || !store.isProvided(key)) return []
    return [{ id: this.peerId, multiaddrs: [] }]
  }

  async getClosestPeers(_key: string, options: ClosestPeersOptions = {}): Promise<PeerInfo[]> {
    this.#started()
    throwIfAborted(options.signal)
    // One process, no peers: the honest answer is none.
    return []
  }

  /** One process, no reachability to tell apart: every peer counts as a server. */
  isDHTServer(_peer: string): boolean {
    return true
  }

  async #validate(key: string, value: Uint8Array): Promise<void> {
    const rules = this.#init.records
    if (rules === undefined) return
    const namespace = namespaceOf(key)
    const validator = rules.validators[namespace]
    if (validator === undefined) {
      throw new InvalidKeyError(
        key,
        `no validator for namespace "${namespace}"; pass validators and selectors for it in init.records`
      )
    }
    try {
      await validator(keyBytes(key), value)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      this.#refusals.refused(err instanceof Error ? err.name : 'Error', { key }, 'local dht refused a record')
      throw new InvalidRecordError(key, reason, { cause: err })
    }
  }

  /**
   * Whether the incoming record replaces the stored one: the namespace's succession rule when it
   * has one (`StaleRecordError` keeps the stored one, `EquivocationError` is thrown: the stored
   * one stays), else the selector.
   */
  #succeeds(key: string, incoming: Uint8Array, existing: Uint8Array): boolean {
    const rules = this.#init.records
    if (rules?.succession?.[namespaceOf(key)] == null) return this.#incomingWins(key, incoming, existing)
    try {
      checkSuccession(rules, key, existing, incoming)
      return true
    } catch (err) {
      if (StaleRecordError.isInstance(err)) return false
      if (EquivocationError.isInstance(err)) throw err
      throw new InvalidRecordError(key, err instanceof Error ? err.message : String(err), { cause: err })
    }
  }

  /** The namespace selector between the incoming record and the stored one; ties go to the incoming. */
  #incomingWins(key: string, incoming: Uint8Array, existing: Uint8Array): boolean {
    const selector = this.#init.records?.selectors[namespaceOf(key)]
    if (selector === undefined) return true
    // A selector answering nonsense keeps the incoming record, as kad-dht's bestRecord does for index 0.
    return selector(keyBytes(key), [incoming, existing]) !== 1
  }
}

/**
 * Creates a started local DHT. With `dataDir` its records persist in SQLite there; without, it
 * keeps them in memory.
 *
 * @example
 * const dht = createLocalDHT({ dataDir: './data' })
 * await dht.putValue('/CHORUS/ucxl/abc', bytes)   // { key, acks: [], storedLocally: true }
 * await dht.getValue('/CHORUS/ucxl/abc')
 * await dht.close()
 */
export function createLocalDHT(init: LocalDHTInit = {}): LocalDHT {
  return new LocalDHTImpl(init)
}
