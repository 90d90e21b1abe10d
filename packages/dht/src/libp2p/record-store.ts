import { errorText, type Logger } from '@chorus/common'
import { Record as Libp2pRecord } from '@libp2p/kad-dht'
import type { Datastore } from 'interface-datastore'
import type { AbortOptions, RecordRules } from '../contract.js'
import type { EquivocationError } from '../errors.js'
import { inboundPeer } from '../reputation/context.js'
import { guardRecordRules } from '../reputation/libp2p.js'
import { createRateLimiter } from '../reputation/rate-limiter.js'
import type { PeerReputation } from '../reputation/reputation.js'
import { getIfPresent } from './cached-datastore.js'
import { kadRecordKey, kadRecordsPrefix } from './kad-internals.js'
import { keyBytes, selectBest, validateRecord } from './keys.js'
import { peerIdOfKey } from './peer-key.js'
import type { KeyCounter } from './sqlite-datastore.js'
import { refuseStaleRecords, reportEquivocations } from './stale.js'

/**
 * How old the record count may get before `count()` recounts the datastore in the background (to
 * take in records kad-dht stored or dropped itself, which do not pass through this store), in ms.
 */
export const RECORD_RECOUNT_INTERVAL = 5 * 60_000
/** Equivocation warnings logged at most: a burst of 5, then one a minute (the count is exact). */
const EQUIVOCATION_LOG_LIMIT = { burst: 5, ratePerSecond: 1 / 60 }

export interface RecordStoreComponents {
  /**
   * The datastore kad-dht keeps its records in. A function: the store (and the record rules it
   * builds, which the node needs) exists before the node that owns the datastore.
   */
  datastore(): Datastore
  /**
   * The reputation system that hears of refused records (their sender) and of equivocations
   * (their author); undefined when it is off.
   */
  reputation?:
    | (Pick<PeerReputation, 'onInvalidRecord'> & Partial<Pick<PeerReputation, 'penalise'>>)
    | undefined
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
 * the succession check of a record a peer sends against the one held (`StaleRecordError` when the
 * held one stays, `EquivocationError` when the two contradict each other: counted, logged at a
 * bounded rate, and charged to the author), plus, with the reputation system, a penalty for the
 * sender of a refused record (not for a stale record or an equivocation).
 */
export class RecordStore {
  /** The rules as given. */
  readonly rules: RecordRules
  /** The rules kad-dht runs: stale refusal and the reputation guard around `rules`. */
  readonly guardedRules: RecordRules
  readonly #components: RecordStoreComponents
  readonly #prefix: string
  readonly #equivocationLog = createRateLimiter(EQUIVOCATION_LOG_LIMIT)
  #equivocations = 0
  /** Records held, as of the last count plus this store's own writes and removes since. */
  #count: number | undefined
  #countedAt = 0
  #counting: Promise<void> | undefined

  constructor(components: RecordStoreComponents, init: RecordStoreInit) {
    this.#components = components
    this.#prefix = init.datastorePrefix
    this.rules = init.records ?? { validators: {}, selectors: {} }
    // an incoming record that may not succeed the one held is refused
    const fresh = reportEquivocations(
      refuseStaleRecords(this.rules, (key) => this.read(key)),
      (err) => this.#onEquivocation(err)
    )
    // validators that name the sender of a refused record (kad-dht runs them without saying who)
    const reputation = components.reputation
    this.guardedRules = reputation != null ? guardRecordRules(fresh, reputation) : fresh
  }

  /** Equivocations refused since this store was built (two valid records of one author contradicting each other). */
  get equivocations(): number {
    return this.#equivocations
  }

  /** Counts an equivocation, charges its author (a raw Ed25519 key: its peer id) and logs it, at a bounded rate. */
  #onEquivocation(err: EquivocationError): void {
    this.#equivocations++
    const author = peerIdOfKey(err.authorKey)
    if (author != null) this.#components.reputation?.penalise?.(author, 'invalid-record')
    if (this.#equivocationLog.tryTake('log')) {
      this.#components.logger.warn(
        { key: err.key, author: author ?? 'not an Ed25519 key', sender: inboundPeer.getStore() },
        'equivocation refused: the held record stays, its author is charged'
      )
    }
  }

  /**
   * Validates a record this node is about to store or send (`InvalidKeyError`,
   * `InvalidRecordError`; when a peer pushed it through a `handle()` protocol, `StaleRecordError`
   * when the held one stays and `EquivocationError` when it contradicts the held one).
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
    const k = kadRecordKey(this.#prefix, keyBytes(key))
    const store = this.#components.datastore()
    const had = this.#count === undefined ? true : await store.has(k, options)
    await store.put(k, record.serialize(), options)
    if (!had && this.#count !== undefined) this.#count++
  }

  /** The record this node holds for `key`, if it is (still) valid by the namespace validator. */
  async read(key: string, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
    const raw = await getIfPresent(
      this.#components.datastore(),
      kadRecordKey(this.#prefix, keyBytes(key)),
      options
    )
    if (raw === undefined) return undefined
    const record = Libp2pRecord.deserialize(raw)
    try {
      await validateRecord(this.rules, key, record.value)
    } catch (err) {
      this.#components.logger.warn({ key, err: errorText(err) }, 'local record no longer valid')
      return undefined
    }
    return record.value
  }

  /** Drops this node's record for `key`; resolves whether there was one. */
  async remove(key: string, options: AbortOptions = {}): Promise<boolean> {
    const k = kadRecordKey(this.#prefix, keyBytes(key))
    const store = this.#components.datastore()
    if (!(await store.has(k, options))) return false
    await store.delete(k, options)
    if (this.#count !== undefined && this.#count > 0) this.#count--
    return true
  }

  /**
   * How many records the store holds. A datastore that counts them as they are written (this
   * node's SQLite one, `KeyCounter`) answers exactly, without a scan. Otherwise (a memory store)
   * from a counter: the datastore is counted once (the first call waits for it), this store's own
   * writes and removes keep the counter, and once it is older than {@link RECORD_RECOUNT_INTERVAL}
   * a call recounts in the background (records kad-dht stored or dropped itself do not pass
   * through here) and answers with the current figure. A status call never waits for a scan after
   * the first.
   */
  async count(options: AbortOptions = {}): Promise<number> {
    // a datastore that counts kad-dht's records as they are written answers at once, exactly
    const counted = (this.#components.datastore() as Partial<KeyCounter>).countKeys?.(
      kadRecordsPrefix(this.#prefix)
    )
    if (counted !== undefined) return counted
    if (this.#count === undefined) {
      await this.#recount(options)
      return this.#count ?? 0
    }
    if (Date.now() - this.#countedAt > RECORD_RECOUNT_INTERVAL) {
      this.#recount().catch((err: unknown) =>
        this.#components.logger.debug({ err: errorText(err) }, 'record count failed')
      )
    }
    return this.#count
  }

  /** Counts the records in the datastore (one scan at a time). */
  #recount(options: AbortOptions = {}): Promise<void> {
    this.#counting ??= (async () => {
      try {
        let n = 0
        for await (const _ of this.#components
          .datastore()
          .queryKeys({ prefix: kadRecordsPrefix(this.#prefix) }, options)) {
          n++
        }
        this.#count = n
        this.#countedAt = Date.now()
      } finally {
        this.#counting = undefined
      }
    })()
    return this.#counting
  }
}
