/**
 * The peer-info protocol (`${protocolPrefix}/peerinfo/1.0.0`): an empty length-prefixed request,
 * a length-prefixed JSON answer `{ agentVersion, role?, capabilities }` with what this node tells
 * about itself. The codec bounds what a peer's answer may carry; the handler answers a request.
 */
import type { KnownPeer } from '../peer-table.js'

/** What this node serves over the peer-info protocol. */
export interface SelfInfo {
  agentVersion: string
  role?: string
  capabilities: string[]
}

/** Largest peer-info answer read from a peer. */
export const PEER_INFO_MAX_BYTES = 64 * 1024
/**
 * Largest peer-info request served: the request is empty, so a request of any length is a
 * malformed message (refused at the framing, where it costs the peer an `invalid-message` penalty).
 */
export const PEER_INFO_MAX_REQUEST_BYTES = 0
/** Longest agent version, role or capability kept from a peer's answer (longer ones are cut). */
export const PEER_INFO_MAX_FIELD = 256
/** Most capabilities kept from a peer's answer. */
export const PEER_INFO_MAX_CAPABILITIES = 64

/** The peer-info protocol of a protocol prefix. */
export function peerInfoProtocol(protocolPrefix: string): string {
  return `${protocolPrefix}/peerinfo/1.0.0`
}

/** Encodes this node's answer. */
export function encodePeerInfo(self: SelfInfo): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(self))
}

/** Decodes and bounds a peer's answer; throws on anything that is not a JSON object. */
export function decodePeerInfo(bytes: Uint8Array): Omit<KnownPeer, 'id' | 'multiaddrs' | 'lastSeen'> {
  const raw: unknown = JSON.parse(new TextDecoder().decode(bytes))
  if (raw == null || typeof raw !== 'object') throw new Error('peer info is not an object')
  const o = raw as Record<string, unknown>
  const str = (v: unknown): string => (typeof v === 'string' ? v.slice(0, PEER_INFO_MAX_FIELD) : '')
  const caps = Array.isArray(o.capabilities)
    ? o.capabilities.filter((c): c is string => typeof c === 'string').slice(0, PEER_INFO_MAX_CAPABILITIES)
    : []
  return {
    agentVersion: str(o.agentVersion),
    role: str(o.role),
    capabilities: caps.map((c) => c.slice(0, PEER_INFO_MAX_FIELD))
  }
}

export interface PeerInfoHandlerComponents {
  /** What this node currently tells about itself (role and capabilities change when announced). */
  self(): SelfInfo
}

/** The handler of one peer-info request: this node's answer, whatever the (empty) request. */
export function peerInfoHandler(components: PeerInfoHandlerComponents): () => Promise<Uint8Array> {
  return async () => encodePeerInfo(components.self())
}
