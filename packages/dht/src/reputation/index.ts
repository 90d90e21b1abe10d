/**
 * Peer reputation: penalty points per peer that decay over time, bans that a libp2p connection
 * gater enforces in both directions, per-peer token-bucket rate limits, and the hooks that connect
 * them to kad-dht (records refused by a validator) and to our own protocols (floods).
 */
export { inboundPeer } from './context.js'
export { PeerBannedError, RateLimitedError } from './errors.js'
export {
  type AttachReputationInit,
  attachReputation,
  type GuardHandlerInit,
  guardProtocolHandler,
  guardRecordRules,
  isInvalidRecordEvent
} from './libp2p.js'
export { createRateLimiter, type RateLimiter, type RateLimiterInit } from './rate-limiter.js'
export {
  type BanInfo,
  combineGaters,
  createPeerReputation,
  DEFAULT_PENALTY_WEIGHTS,
  type PeerRef,
  type PeerReputation,
  type PeerReputationInit,
  type PenaltyReason,
  type PenaltyResult,
  type ReputationGater,
  type ReputationStats
} from './reputation.js'
