/**
 * Handing stored records to replication: both records of a stored version (the immutable version
 * key and the head) are kept on the target number of holders; after a restart, what this node
 * wrote but replication does not manage yet is handed over again. A delete hands its tombstone
 * over the same way (`deleteContent`), and a tombstone learned of retires the deleted versions
 * (`retireDeleted`).
 */
import { type Logger, pause } from '@chorus/common'
import type { ReplicationManager } from '@chorus/replication'
import type { DeletedEvent, EncryptedStorage } from '@chorus/storage'
import { addressDigest, headKey, parseAddress, parseRecordKey, versionKey } from '@chorus/ucxl'
import type { DeleteResponse } from './service.js'

export interface HandoffComponents {
  replication: Pick<ReplicationManager, 'addContent' | 'hasContent'>
  storage: Pick<EncryptedStorage, 'searchContent'>
  /** Background work and shutdown: see `AgentLifecycle`. */
  lifecycle: { readonly signal: AbortSignal; spawn(work: Promise<unknown>): void }
  logger: Logger
}

/** One stored version as storage reports it. */
export interface StoredVersion {
  baseAddress: string
  version: number
  size: number
  contentType: string
  /** The peers that acknowledged the store's direct push (they hold both records). */
  dhtPeers?: readonly string[]
}

/** The DHT keys of a stored version: its version key, then the head of its address. */
export function recordKeys(baseAddress: string, version: number): [string, string] {
  const digest = addressDigest(parseAddress(baseAddress))
  return [versionKey(digest, version), headKey(digest)]
}

/** Decisions replicate first. */
function priority(contentType: string): number {
  return contentType === 'decision' ? 2 : 1
}

/** Keep both records of a stored version on the target number of nodes (in the background). */
export function handOff(c: HandoffComponents, stored: StoredVersion): void {
  for (const key of recordKeys(stored.baseAddress, stored.version)) {
    c.lifecycle.spawn(
      c.replication.addContent(key, stored.size, priority(stored.contentType), {
        signal: c.lifecycle.signal,
        ...(stored.dhtPeers !== undefined ? { holders: stored.dhtPeers } : {})
      })
    )
  }
}

/**
 * After a restart: what this node (`author`, its public key in hex) wrote but replication does
 * not manage yet (a shutdown that came between the acknowledgement and the pin) is handed to
 * replication again. Resolves to the number of versions handed over.
 */
export async function reconcile(c: HandoffComponents, author: string): Promise<number> {
  let added = 0
  for (const m of await c.storage.searchContent({ limit: 1000 })) {
    if (m.author !== author) continue
    const [version, head] = recordKeys(m.baseAddress, m.version)
    // one indexed lookup each: never every managed key
    if (c.replication.hasContent(head) && c.replication.hasContent(version)) continue
    handOff(c, m)
    added++
  }
  if (added > 0) c.logger.info({ added }, 'handed unmanaged records back to replication')
  return added
}

/** How long after start {@link reconcileLater} hands records back (5 s). */
export const RECONCILE_DELAY = 5_000

/**
 * {@link reconcile} once `delay` has passed, unless `signal` aborted first (then 0): it reads up to
 * a thousand index rows, work a restart does not wait for.
 */
export async function reconcileLater(
  c: HandoffComponents,
  author: string,
  signal: AbortSignal,
  delay = RECONCILE_DELAY
): Promise<number> {
  await pause(delay, { signal })
  return signal.aborted ? 0 : reconcile(c, author)
}

/** Most version keys before a tombstone retired without being managed here (a bound on a claim). */
const MAX_RETIRE_WALK = 4096

/**
 * A tombstone this node accepted: replication stops keeping the deleted versions (every managed
 * version key of the address below the tombstone, and the last `MAX_RETIRE_WALK` version keys
 * below it, so that a push of one is refused too). The head and the tombstone's own version key
 * stay managed: the tombstone is replicated like any head.
 */
export function retireDeleted(
  replication: Pick<ReplicationManager, 'retireContent' | 'listContent'>,
  e: Pick<DeletedEvent, 'digest' | 'version'>,
  logger: Logger
): void {
  const keys = new Set<string>()
  // the address's version keys only (a range of replication's index), never every managed key
  for (const key of replication.listContent(`${headKey(e.digest)}/v/`)) {
    const k = parseRecordKey(key)
    if (k?.digest === e.digest && k.version !== undefined && k.version < e.version) keys.add(key)
  }
  for (let v = Math.max(1, e.version - MAX_RETIRE_WALK); v < e.version; v++) keys.add(versionKey(e.digest, v))
  replication.retireContent([...keys]).catch((err: unknown) => {
    logger.debug({ err: (err as Error).message }, 'retiring deleted versions failed')
  })
}

export interface DeleteComponents {
  storage: Pick<EncryptedStorage, 'deleteUCXLContent'>
  /** Writes shutdown lets finish (see `AgentLifecycle.write`). */
  lifecycle: { write<T>(work: Promise<T>): Promise<T> }
  handoff: HandoffComponents
}

/**
 * The agent's delete: storage's signed tombstone as the agent's role, then the tombstone handed to
 * replication like any head, so that every holder learns of it.
 */
export async function deleteContent(
  c: DeleteComponents,
  role: string,
  address: string,
  purgeVersions: boolean
): Promise<DeleteResponse> {
  const res = await c.lifecycle.write(c.storage.deleteUCXLContent(address, role, { purgeVersions }))
  handOff(c.handoff, { baseAddress: res.address, version: res.version, size: 0, contentType: 'deleted' })
  return { ...res }
}
