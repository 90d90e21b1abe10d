import type { DHT } from '@chorus/dht'
import { parseRecordKey } from '@chorus/ucxl'
import type { RecordCheck } from '../../record-check.js'
import type { GetRequest, GetResponse } from '../protocol.js'

export interface GetHandlerComponents {
  /** This node's record store (read with `localOnly`). */
  dht: Pick<DHT, 'getValues'>
  /** The record check: a held record that no longer passes it (say, under a newer team policy) is not served. */
  check: RecordCheck
}

/** Answers a get with the valid record this node holds under a CHORUS ucxl key, or null. */
export async function handleGet(components: GetHandlerComponents, request: GetRequest): Promise<GetResponse> {
  if (parseRecordKey(request.key) === null) return { value: null }
  const held = await components.dht.getValues(request.key, { localOnly: true }).catch(() => [])
  const value = held[0]?.value
  if (value === undefined) return { value: null }
  try {
    components.check(request.key, value)
  } catch {
    return { value: null }
  }
  return { value }
}
