import { createRefusalLog, silentLogger } from '@chorus/common'
import type { DHT, Logger } from '@chorus/dht'
import { createRecordCheck, type WriteAuthority } from '../record-check.js'
import { checkSuccession } from '../succession.js'
import { handleGet } from './handlers/get.js'
import { handlePut, type PutHandlerComponents } from './handlers/put.js'
import {
  busy,
  type DirectRecord,
  decodeRequest,
  encodeMessage,
  type PutResponse,
  REFUSAL_CODES,
  type RecordRequest,
  refusal
} from './protocol.js'

/** Direct puts this node checks and stores at once, from all peers together, by default. */
export const DEFAULT_MAX_CONCURRENT_PUTS = 64
/** The wait a BUSY answer asks for, in ms: about the time a batch of puts takes on a loaded node. */
export const BUSY_RETRY_AFTER_MS = 100

export interface RecordHandlerOptions {
  logger?: Logger
  /** The team's write rule (team mode). Default: none (open mode). */
  authority?: WriteAuthority
  /**
   * Puts in progress at most (record checks and writes, all peers together); one more is answered
   * BUSY with a retry-after instead of queueing without bound. Default:
   * {@link DEFAULT_MAX_CONCURRENT_PUTS}.
   */
  maxConcurrentPuts?: number
  /**
   * This node's peer id. Given, every record stored from a push notes the sender and this node
   * as its providers in the DHT's own provider store (`DHT.noteProviders`): both hold it in full,
   * so the writer need not announce it again to the peers it pushed to. Default: nothing noted.
   */
  selfId?: string
  /** Told of every record a push stored (or already held with the same bytes), after the answer is decided. */
  onStored?: (key: string, value: Uint8Array, from: string) => void
}

/**
 * The server side of the direct record protocol, as a PeerMessaging handler: decodes and
 * bound-checks the request once, then hands it to the handler of its op, with the record check
 * and the succession rule of `options.authority`'s mode.
 */
export function recordHandler(
  dht: Pick<DHT, 'getValues' | 'putValue' | 'noteProviders'>,
  options: RecordHandlerOptions = {}
) {
  const { logger, authority } = options
  const maxPuts = Math.max(1, options.maxConcurrentPuts ?? DEFAULT_MAX_CONCURRENT_PUTS)
  let puts = 0
  let notes = 0
  const teamMode = authority !== undefined
  // refusals of peers' records, logged at a bounded rate and size (a flood is a summary line)
  const equivocations = createRefusalLog(logger ?? silentLogger, { level: 'warn' })
  const refusals = createRefusalLog(logger ?? silentLogger, { level: 'debug' })
  const components: PutHandlerComponents = {
    dht,
    check: createRecordCheck({ authority }),
    succession: (key, held, incoming) => checkSuccession(key, held, incoming, teamMode)
  }
  return async (request: Uint8Array, from: { id: string }): Promise<Uint8Array> => {
    let req: RecordRequest
    try {
      req = decodeRequest(request)
    } catch {
      return encodeMessage(refusal(REFUSAL_CODES.MALFORMED_REQUEST))
    }
    if (req.op === 'get') return encodeMessage(await handleGet(components, req))
    const stores: DirectRecord[][] =
      req.op === 'put' ? [req.records] : req.items.map((i) => i.keys.map((key) => ({ key, value: i.value })))
    // saturated: the writer waits and sends again (nothing was checked, nobody is charged); a
    // batch counts each of its stores, but one batch is always taken by an idle node
    if (puts > 0 && puts + stores.length > maxPuts) return encodeMessage(busy(BUSY_RETRY_AFTER_MS))
    puts += stores.length
    let results: PutResponse[]
    try {
      results = await putAll(components, stores)
    } finally {
      puts -= stores.length
    }
    const stored: DirectRecord[] = []
    results.forEach((res, i) => {
      if (res.ok) stored.push(...stores[i]!)
      // two valid records that contradict each other: the author signed both, which is worth a warning
      else if (res.code === REFUSAL_CODES.EQUIVOCATION)
        equivocations.refused(res.code, { from: from.id }, 'refused an equivocating record')
      else refusals.refused(res.code, { from: from.id }, 'refused a pushed record')
    })
    for (const { key, value } of stored) tell(options.onStored, key, value, from.id, logger)
    // after the answer: the writer waits for its acknowledgement, not for these local writes;
    // past `maxPuts` notes in progress they are left to the writer's schedule and the sweep
    if (stored.length > 0 && options.selfId !== undefined && notes < maxPuts) {
      notes++
      void noteHolders(dht, stored, [from.id, options.selfId], logger).finally(() => {
        notes--
      })
    }
    return encodeMessage(req.op === 'put' ? results[0] : ({ results } satisfies BatchAnswer))
  }
}

/** The answer to a batch request: one result per item, in order. */
interface BatchAnswer {
  results: PutResponse[]
}

/**
 * Checks and writes the stores of one request: together when no two share a key (the datastore
 * commits the writes of one turn at once), else one after another, so that two versions of one
 * key in a batch meet the succession rule in the order they were sent.
 */
async function putAll(components: PutHandlerComponents, stores: DirectRecord[][]): Promise<PutResponse[]> {
  const put = (records: DirectRecord[]) => handlePut(components, { op: 'put', records })
  const keys = stores.flatMap((records) => records.map((r) => r.key))
  if (new Set(keys).size === keys.length) return Promise.all(stores.map(put))
  const results: PutResponse[] = []
  for (const records of stores) results.push(await put(records))
  return results
}

/** Notes `holders` as providers of each stored key; a failure only leaves the announcement to the writer. */
async function noteHolders(
  dht: Pick<DHT, 'noteProviders'>,
  records: ReadonlyArray<{ key: string }>,
  holders: string[],
  logger: Logger | undefined
): Promise<void> {
  if (dht.noteProviders === undefined) return
  const note = dht.noteProviders.bind(dht)
  // together: the datastore commits the writes of one turn at once
  await Promise.all(
    records.map(({ key }) =>
      note(key, holders).catch((err: unknown) => {
        logger?.debug({ err: (err as Error).message }, 'could not note the providers of a pushed record')
      })
    )
  )
}

function tell(
  onStored: RecordHandlerOptions['onStored'],
  key: string,
  value: Uint8Array,
  from: string,
  logger: Logger | undefined
): void {
  try {
    onStored?.(key, value, from)
  } catch (err) {
    logger?.debug({ err: (err as Error).message }, 'a listener of stored records failed')
  }
}
