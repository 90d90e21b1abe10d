import { createRefusalLog, silentLogger } from '@chorus/common'
import type { DHT, Logger } from '@chorus/dht'
import { createRecordCheck, type WriteAuthority } from '../record-check.js'
import { checkSuccession } from '../succession.js'
import { handleGet } from './handlers/get.js'
import { handlePut, type PutHandlerComponents } from './handlers/put.js'
import { decodeRequest, encodeMessage, REFUSAL_CODES, type RecordRequest, refusal } from './protocol.js'

export interface RecordHandlerOptions {
  logger?: Logger
  /** The team's write rule (team mode). Default: none (open mode). */
  authority?: WriteAuthority
}

/**
 * The server side of the direct record protocol, as a PeerMessaging handler: decodes and
 * bound-checks the request once, then hands it to the handler of its op, with the record check
 * and the succession rule of `options.authority`'s mode.
 */
export function recordHandler(dht: Pick<DHT, 'getValues' | 'putValue'>, options: RecordHandlerOptions = {}) {
  const { logger, authority } = options
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
    const res = await handlePut(components, req)
    if (res.ok) return encodeMessage(res)
    // two valid records that contradict each other: the author signed both, which is worth a warning
    if (res.code === REFUSAL_CODES.EQUIVOCATION)
      equivocations.refused(res.code, { from: from.id }, 'refused an equivocating record')
    else refusals.refused(res.code, { from: from.id }, 'refused a pushed record')
    return encodeMessage(res)
  }
}
