/**
 * The prove handler: a peer challenges this node to prove it holds the value of a key whose
 * digest it names. This node answers only for a value it pinned (the work is one hash of a value
 * it already holds, and the edge rate-limits challenges per peer): `NOT_HELD` when it pins
 * nothing for the key, `OTHER_VALUE` when it pins another value (another version), else the
 * proof over the pinned value.
 */
import type { ContentEntries } from '../../entries.js'
import { possessionProof, sameDigest } from '../../proof.js'
import { type ProveRequest, type ReplicateResponse, refusal } from '../../protocol.js'

export interface ProveHandlerComponents {
  entries: Pick<ContentEntries, 'holds' | 'value' | 'digest'>
}

export function handleProve(components: ProveHandlerComponents, req: ProveRequest): ReplicateResponse {
  const { entries } = components
  if (!entries.holds(req.key)) return refusal('NOT_HELD')
  if (!sameDigest(entries.digest(req.key), req.digest)) return refusal('OTHER_VALUE')
  const value = entries.value(req.key)
  if (value == null) return refusal('NOT_HELD')
  return { ok: true, proof: possessionProof(req.nonce, req.key, value) }
}
