/**
 * The library operations the API and CLI reach beyond store, read, list and search: announce and
 * discover content, rated providers, peers by role or capability, every version of an address,
 * and the search query as storage takes it. Each is a short function of the components, so the
 * agent delegates in a line.
 */
import { InvalidAddressError, type SearchQuery as StorageSearchQuery } from '@chorus/storage'
import { baseAddress, dhtKey, isWildcardAddress, parseAddress } from '@chorus/ucxl'
import type { AgentComponents } from './components.js'
import type { RetrieveResult, SearchQuery } from './service.js'
import { plain } from './views.js'

/** How long a lookup on the network (providers, peers by role or capability) may take, in ms. */
const LOOKUP_TIMEOUT = 20_000

type Parts = Pick<AgentComponents, 'storage' | 'replication' | 'libp2p'>

/** A concrete address (a pattern names no single record): typed 400 otherwise. */
function concrete(address: string): string {
  if (isWildcardAddress(address)) {
    throw new InvalidAddressError(
      address.slice(0, 200),
      'a pattern names no single address: search by pattern'
    )
  }
  return address
}

/** The head key replication and provider records use for an address. */
function headKeyOf(address: string): string {
  return dhtKey(parseAddress(concrete(address)))
}

/** Reads an address (`fresh`: past the cache; `from`: the first version of `^^N`). */
export async function retrieve(
  c: Parts,
  address: string,
  options: { fresh?: boolean; from?: number }
): Promise<RetrieveResult> {
  if (options.fresh === true) c.storage.invalidateCache(address)
  const res = await c.storage.retrieveUCXLContent(
    address,
    options.from !== undefined ? { from: options.from } : {}
  )
  return {
    content: res.content,
    metadata: { ...(plain(res.metadata) as Record<string, unknown>), source: res.source }
  }
}

/** The newest records of one role, or of every role. */
export async function list(c: Parts, role: string | undefined, limit: number): Promise<unknown[]> {
  const items =
    role === undefined
      ? await c.storage.searchContent({ limit })
      : await c.storage.listContentByRole(role, limit)
  return plain(items) as unknown[]
}

/** Announces this node as a provider of the address; the peers that acknowledged it. */
export async function announce(c: Parts, address: string): Promise<Record<string, unknown>> {
  const { peers } = await c.storage.announceContent(address, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT) })
  return { address, count: peers.length, peers }
}

/** The peers whose provider records name the address (storage's `discoverContentPeers`). */
export async function discoverPeers(c: Parts, address: string): Promise<Record<string, unknown>> {
  const peers = await c.storage.discoverContentPeers(address, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT) })
  return { address, count: peers.length, peers }
}

/** The address's providers rated by quality, with their XOR distance (replication's `findProviders`). */
export async function providers(c: Parts, address: string, limit: number): Promise<Record<string, unknown>> {
  const found = await c.replication.findProviders(headKeyOf(address), limit, {
    signal: AbortSignal.timeout(LOOKUP_TIMEOUT)
  })
  return { address, count: found.length, providers: plain(found) }
}

/** Peers that announced a role or a capability (the dht's `findPeersByRole`/`findPeersByCapability`). */
export async function findPeers(
  c: Parts,
  by: 'role' | 'capability',
  name: string
): Promise<Record<string, unknown>> {
  const options = { signal: AbortSignal.timeout(LOOKUP_TIMEOUT) }
  const peers =
    by === 'role'
      ? await c.libp2p.findPeersByRole(name, options)
      : await c.libp2p.findPeersByCapability(name, options)
  return { [by]: name, count: peers.length, peers: plain(peers) }
}

/** Every version of one address this node's index holds, oldest first. */
export async function versions(c: Parts, address: string, limit: number): Promise<Record<string, unknown>> {
  if (isWildcardAddress(address)) {
    throw new InvalidAddressError(
      address.slice(0, 200),
      'a pattern names no single address: search by pattern'
    )
  }
  const base = baseAddress(parseAddress(address))
  const items = await c.storage.searchContent({ address: base, allVersions: true, limit })
  items.sort((a, b) => a.version - b.version)
  return { address: base, count: items.length, items: plain(items) }
}

/** The API's search query as storage takes it (dates parsed, unset fields left out). */
export function storageQuery(q: SearchQuery): StorageSearchQuery {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue
    out[k] = k === 'createdAfter' || k === 'createdBefore' ? new Date(v as string) : v
  }
  return out as StorageSearchQuery
}
