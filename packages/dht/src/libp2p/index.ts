export { ADMISSION_MAX_DENIED } from './admission-gate.js'
export { ADMISSION_MAX_BYTES, admissionProtocol } from './handlers/admission.js'
export { keyToCid, selectBest } from './keys.js'
export {
  type AdmissionStats,
  capabilityKey,
  createLibP2PDHT,
  type DHTMode,
  type DHTStats,
  type LibP2PDHT,
  type LibP2PDHTInit,
  libp2pDHTDefaults,
  PEER_ANNOUNCE_KEY,
  type PeerPenalty,
  roleKey
} from './libp2p-dht.js'
export {
  type ChorusLibp2p,
  type ChorusServices,
  type ConnectionLimits,
  PING_MIN_TIMEOUT_MS,
  PING_STREAM_LIMITS,
  type ReachabilityOptions,
  transportConfig
} from './node.js'
export { loadNodeIdentity, type NodeIdentity, nodeKeyOfPeerId, peerIdOfNodeKey } from './node-identity.js'
export type { KnownPeer } from './peer-table.js'
export { generatePsk } from './psk.js'
export { isRelayed, type Reachability, type ReachabilityStats } from './reachability.js'
