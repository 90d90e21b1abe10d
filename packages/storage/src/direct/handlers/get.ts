import type { DHT } from '@chorus/dht'
import { parseRecordKey } from '@chorus/ucxl'
import type { GetRequest, GetResponse } from '../protocol.js'

export interface GetHandlerComponents {
  /** This node's record store (read with `localOnly`). */
  dht: Pick<DHT, 'getValues'>
}

/** Answers a get with the record this node holds under a CHORUS ucxl key, or null. */
export async function handleGet(components: GetHandlerComponents, request: GetRequest): Promise<GetResponse> {
  if (parseRecordKey(request.key) === null) return { value: null }
  const held = await components.dht.getValues(request.key, { localOnly: true }).catch(() => [])
  return { value: held[0]?.value ?? null }
}
