import { anySignal, errorText, type Logger } from '@chorus/common'
import type { QueryEvent } from '@libp2p/kad-dht'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import type { AbortOptions, GetOptions, PutOptions, PutResult, ReceivedValue } from '../contract.js'
import { DHTTimeoutError, dhtNotFound, dhtNotStarted, NoPeersAcknowledgedError } from '../errors.js'
import type { PeerReputation } from '../reputation/reputation.js'
import { isInvalidRecordEvent } from './kad-internals.js'
import { keyBytes, recordNamespace } from './keys.js'
import type { RunState } from './lifetime.js'
import type { RecordStore } from './record-store.js'

/** The part of kad-dht content fetching uses: its put, and the per-sender values of a get. */
export interface ValueQueries {
  /** kad-dht's `put`: stores locally, then sends PUT_VALUE to the closest peers. */
  put(key: Uint8Array, value: Uint8Array, options: AbortOptions): AsyncIterable<QueryEvent>
  /** Every validated value on the query path (see `queryValues` in kad-internals). */
  queryValues(key: Uint8Array, options: AbortOptions): AsyncIterable<QueryEvent>
}

export interface ContentFetchingComponents {
  kad: ValueQueries
  records: Pick<RecordStore, 'validate' | 'write' | 'read' | 'best'>
  /** The reputation system that hears of invalid records in GET answers; undefined when off. */
  reputation?: Pick<PeerReputation, 'onInvalidRecord'> | undefined
  /** This node's peer id (its own answers are reported `from: 'self'`). */
  peerId(): string
  run: RunState
  logger: Logger
}

export interface ContentFetchingInit {
  /** Time limit of one put or get query, in ms. */
  queryTimeout: number
}

/**
 * Whether a put's query event is a peer's acknowledgement: a PUT_VALUE response that echoes the
 * record sent. kad-dht's own put counts any response; a peer that refused the record (stale,
 * invalid) answers with an error or without the record.
 */
export function isPutAck(
  event: QueryEvent,
  value: Uint8Array
): event is QueryEvent & { name: 'PEER_RESPONSE' } {
  return (
    event.name === 'PEER_RESPONSE' &&
    event.messageName === 'PUT_VALUE' &&
    event.record != null &&
    uint8ArrayEquals(event.record.value, value)
  )
}

/** putValue, getValue, getValues: records to and from the network, with real acknowledgements. */
export class ContentFetching {
  readonly #c: ContentFetchingComponents
  readonly #queryTimeout: number

  constructor(components: ContentFetchingComponents, init: ContentFetchingInit) {
    this.#c = components
    this.#queryTimeout = init.queryTimeout
  }

  async putValue(key: string, value: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const { run, records, kad, logger } = this.#c
    run.assertStarted('putValue')
    // guarded: a record a peer pushed through a handle() protocol costs that peer reputation
    await records.validate(key, value)
    options.signal?.throwIfAborted()
    if (options.localOnly === true) {
      await records.write(key, value, options)
      return { key, acks: [], storedLocally: true }
    }
    const timeout = this.#queryTimeout
    const timeLimit = AbortSignal.timeout(timeout)
    const lifetime = run.signal
    const signal = anySignal(options.signal, timeLimit, lifetime)
    const minAcks =
      options.minAcks != null ? Math.max(1, Math.floor(options.minAcks)) : Number.POSITIVE_INFINITY
    const acks = new Set<string>()
    let storedLocally = false
    let early: ((r: PutResult) => void) | undefined
    const earlyResult = new Promise<PutResult>((resolve) => {
      early = resolve
    })
    const all = (async (): Promise<PutResult> => {
      let failure: unknown
      try {
        for await (const event of kad.put(keyBytes(key), value, { signal })) {
          // kad-dht stores locally before its first event
          storedLocally = true
          if (isPutAck(event, value)) {
            acks.add(event.from.toString())
            if (acks.size >= minAcks) early?.({ key, acks: [...acks], storedLocally: true })
          }
        }
        storedLocally = true
      } catch (err) {
        failure = err
      }
      if (failure != null) {
        options.signal?.throwIfAborted()
        if (!timeLimit.aborted && !lifetime.aborted && !storedLocally) throw failure
      }
      if (acks.size === 0) {
        const cause = timeLimit.aborted ? new DHTTimeoutError(`put ${key}`, timeout) : failure
        throw new NoPeersAcknowledgedError(key, cause != null ? { cause } : {})
      }
      return { key, acks: [...acks], storedLocally }
    })()
    const result = await Promise.race([all, earlyResult])
    all.catch((err: unknown) => logger.debug({ key, err: errorText(err) }, 'background part of put ended'))
    return result
  }

  async getValue(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    const values = await this.getValues(key, options)
    if (values.length === 0) throw dhtNotFound(key)
    const best = this.#c.records.best(
      key,
      values.map((v) => v.value)
    )
    return (values[best] ?? values[0])!.value
  }

  async getValues(key: string, options: GetOptions = {}): Promise<ReceivedValue[]> {
    const { run, records, kad, reputation, logger } = this.#c
    run.assertStarted('getValues')
    recordNamespace(key)
    options.signal?.throwIfAborted()
    if (options.localOnly === true) {
      const local = await records.read(key, options)
      return local != null ? [{ value: local, from: 'self' }] : []
    }
    const signal = anySignal(options.signal, AbortSignal.timeout(this.#queryTimeout), run.signal)
    const self = this.#c.peerId()
    const bySender = new Map<string, Uint8Array>()
    try {
      for await (const event of kad.queryValues(keyBytes(key), { signal })) {
        if (reputation != null && isInvalidRecordEvent(event))
          reputation.onInvalidRecord(event.from.toString())
        if (event.name !== 'VALUE') continue
        const from = event.from.toString()
        bySender.set(from === self ? 'self' : from, event.value)
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      if (run.signal.aborted) throw dhtNotStarted('LibP2PDHT')
      // a timed-out query still answers with what it found
      logger.debug({ key, err: errorText(err) }, 'get query ended early')
    }
    return [...bySender].map(([from, value]) => ({ value, from }))
  }
}
