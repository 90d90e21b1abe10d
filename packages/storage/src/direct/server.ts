import { createRefusalLog, silentLogger } from '@chorus/common'
import type { DHT, Logger } from '@chorus/dht'
import { createRecordCheck, type WriteAuthority } from '../record-check.js'
import { checkSuccession } from '../succession.js'
import { handleGet } from './handlers/get.js'
import { handlePut, type PutHandlerComponents } from './handlers/put.js'
import { busy, decodeRequest, encodeMessage, REFUSAL_CODES, type RecordRequest, refusal } from './protocol.js'

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
    // saturated: the writer waits and sends again (nothing was checked, nobody is charged)
    if (puts >= maxPuts) return encodeMessage(busy(BUSY_RETRY_AFTER_MS))
    puts++
    let res: Awaited<ReturnType<typeof handlePut>>
    try {
      res = await handlePut(components, req)
    } finally {
      puts--
    }
    if (res.ok) {
      for (const { key, value } of req.records) tell(options.onStored, key, value, from.id, logger)
      // after the answer: the writer waits for its acknowledgement, not for these local writes;
      // past `maxPuts` notes in progress they are left to the writer's schedule and the sweep
      if (options.selfId !== undefined && notes < maxPuts) {
        notes++
        void noteHolders(dht, req.records, [from.id, options.selfId], logger).finally(() => {
          notes--
        })
      }
      return encodeMessage(res)
    }
    // two valid records that contradict each other: the author signed both, which is worth a warning
    if (res.code === REFUSAL_CODES.EQUIVOCATION)
      equivocations.refused(res.code, { from: from.id }, 'refused an equivocating record')
    else refusals.refused(res.code, { from: from.id }, 'refused a pushed record')
    return encodeMessage(res)
  }
}

/** Notes `holders` as providers of each stored key; a failure only leaves the announcement to the writer. */
async function noteHolders(
  dht: Pick<DHT, 'noteProviders'>,
  records: ReadonlyArray<{ key: string }>,
  holders: string[],
  logger: Logger | undefined
): Promise<void> {
  if (dht.noteProviders === undefined) return
  for (const { key } of records) {
    try {
      await dht.noteProviders(key, holders)
    } catch (err) {
      logger?.debug({ err: (err as Error).message }, 'could not note the providers of a pushed record')
    }
  }
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
