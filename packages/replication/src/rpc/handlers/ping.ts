/** The ping handler: a liveness probe over the replicate protocol, answered with ok. */
import type { ReplicateResponse } from '../../protocol.js'

export function handlePing(): ReplicateResponse {
  return { ok: true }
}
