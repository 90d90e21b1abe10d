import { errorText, type Logger } from '@chorus/common'
import { Record as Libp2pRecord } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'
import type { AbortOptions, RecordRules } from '../contract.js'
import { guardRecordRules } from '../reputation/libp2p.js'
import type { PeerReputation } from '../reputation/reputation.js'
import { isDatastoreNotFound, kadRecordKey, kadRecordsPrefix } from './kad-internals.js'
import { keyBytes, selectBest, validateRecord } from './keys.js'
import { refuseStaleRecords } from './stale.js'

export interface RecordStoreComponents {
  /**
   * The datastore kad-dht keeps its records in. A function: the store (and the record rules it
   * builds, which the node needs) exists before the node that owns the datastore.
   */
  datastore(): Datastore
  /** The reputation system that hears of refused records; undefined when it is off. */
  reputation?: Pick<PeerReputation, 'onInvalidRecord'> | undefined
  logger: Logger
}

export interface RecordStoreInit {
  /** Validators and selectors by namespace. Default: none (every namespace is refused). */
  records?: RecordRules
  /** kad-dht's datastore prefix (see `kadDatastorePrefix`). */
  datastorePrefix: string
}

/**
 * The record rules and this node's own record store: kad-dht's records in its datastore, where
 * a record written here is served to GET_VALUE queries like one kad-dht received.
 *
 * `guardedRules` are the rules kad-dht runs (and `validate` uses): the namespace validators, plus
 * the refusal of a record a peer sends that the selector ranks below the one held
 * (`StaleRecordError`), plus, with the reputation system, a penalty for the sender of a refused
 * record.
 */
export class RecordStore {
  /** The rules as given. */
  readonly rules: RecordRules
  /** The rules kad-dht runs: stale refusal and the reputation guard around `rules`. */
  readonly guardedRules: RecordRules
  readonly #components: RecordStoreComponents
  readonly #prefix: string

  constructor(components: RecordStoreComponents, init: RecordStoreInit) {
    this.#components = components
    this.#prefix = init.datastorePrefix
    this.rules = init.records ?? { validators: {}, selectors: {} }
    // an incoming record ranked below the one held is refused
    const fresh = refuseStaleRecords(this.rules, (key) => this.read(key))
    // validators that name the sender of a refused record (kad-dht runs them without saying who)
    const reputation = components.reputation
    this.guardedRules = reputation != null ? guardRecordRules(fresh, reputation) : fresh
  }

  /**
   * Validates a record this node is about to store or send (`InvalidKeyError`,
   * `InvalidRecordError`, `StaleRecordError` when a peer pushed it through a `handle()` protocol
   * and it is older than the one held).
   */
  validate(key: string, value: Uint8Array): Promise<void> {
    return validateRecord(this.guardedRules, key, value)
  }

  /** Index of the best of `values` for `key` by the namespace selector. */
  best(key: string, values: Uint8Array[]): number {
    return selectBest(this.rules, key, values)
  }

  /** Writes a record the way kad-dht stores received ones, so this node answers GET_VALUE for it. */
  async write(key: string, value: Uint8Array, options: AbortOptions = {}): Promise<void> {
    const record = new Libp2pRecord(keyBytes(key), value, new Date())
    await this.#components
      .datastore()
      .put(kadRecordKey(this.#prefix, keyBytes(key)), record.serialize(), options)
  }

  /** The record this node holds for `key`, if it is (still) valid by the namespace validator. */
  async read(key: string, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
    let raw: Uint8Array
    try {
      raw = await this.#components.datastore().get(kadRecordKey(this.#prefix, keyBytes(key)), options)
    } catch (err) {
      if (isDatastoreNotFound(err)) return undefined
      throw err
    }
    const record = Libp2pRecord.deserialize(raw)
    try {
      await validateRecord(this.rules, key, record.value)
    } catch (err) {
      this.#components.logger.warn({ key, err: errorText(err) }, 'local record no longer valid')
      return undefined
    }
    return record.value
  }

  /** How many records the store holds. */
  async count(options: AbortOptions = {}): Promise<number> {
    let n = 0
    for await (const _ of this.#components
      .datastore()
      .queryKeys({ prefix: kadRecordsPrefix(this.#prefix) }, options)) {
      n++
    }
    return n
  }
}
