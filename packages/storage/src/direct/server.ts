import type { DHT, Logger } from '@chorus/dht'
import { handleGet } from './handlers/get.js'
import { handlePut } from './handlers/put.js'
import { decodeRequest, encodeMessage, type RecordRequest } from './protocol.js'

/**
 * The server side of the direct record protocol, as a PeerMessaging handler: decodes and
 * bound-checks the request once, then hands it to the handler of its op.
 */
export function recordHandler(dht: Pick<DHT, 'getValues' | 'putValue'>, logger?: Logger) {
  return async (request: Uint8Array, from: { id: string }): Promise<Uint8Array> => {
    let req: RecordRequest
    try {
      req = decodeRequest(request)
    } catch (err) {
      return encodeMessage({ ok: false, error: `malformed request: ${(err as Error).message}` })
    }
    if (req.op === 'get') return encodeMessage(await handleGet({ dht }, req))
    const res = await handlePut({ dht }, req)
    if (!res.ok) logger?.debug({ from: from.id, reason: res.error }, 'refused a pushed record')
    return encodeMessage(res)
  }
}
