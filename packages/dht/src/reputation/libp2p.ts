import { silentLogger } from '@chorus/common'
import type { Connection, Libp2p, Stream, StreamHandler } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger, ProtocolHandler, RecordRules, RecordValidator } from '../contract.js'
import { EquivocationError, StaleRecordError } from '../errors.js'
import { protocolHandler } from '../libp2p/kad-internals.js'
import { inboundPeer, inboundRecordBudget } from './context.js'
import { PeerBannedError, RateLimitedError } from './errors.js'
import { createRateLimiter, type RateLimiter } from './rate-limiter.js'
import type { PeerReputation } from './reputation.js'

/**
 * Record rules whose validators report the sender of a refused record to the reputation system
 * (when the record arrived on a stream guarded by `attachReputation` or `guardProtocolHandler`).
 * The verdict itself is unchanged: the validator's error is rethrown. A `StaleRecordError` (an
 * older record than the one held, see `refuseStaleRecords`) costs nothing, and neither does an
 * `EquivocationError`: the sender only relayed what the record's author signed twice (the author
 * is charged where the equivocation is counted, see `RecordStore`).
 */
export function guardRecordRules(
  rules: RecordRules,
  reputation: Pick<PeerReputation, 'onInvalidRecord'> & Partial<Pick<PeerReputation, 'onFlood'>>
): RecordRules {
  const validators: Record<string, RecordValidator> = {}
  for (const [ns, validate] of Object.entries(rules.validators)) {
    validators[ns] = async (key, value) => {
      const budget = inboundRecordBudget.getStore()
      if (budget != null && !budget(value.byteLength)) {
        // over the sender's byte budget: refused unread, a flood rather than an invalid record
        const peer = inboundPeer.getStore() ?? 'unknown'
        reputation.onFlood?.(peer)
        throw new RateLimitedError(peer, 'records')
      }
      try {
        await validate(key, value)
      } catch (err) {
        const peer = inboundPeer.getStore()
        // an older record is not an invalid one: honest peers may hold it; an equivocation is its author's
        const senderAtFault = !StaleRecordError.isInstance(err) && !EquivocationError.isInstance(err)
        if (peer != null && senderAtFault) reputation.onInvalidRecord(peer)
        throw err
      }
    }
  }
  return { ...rules, validators, selectors: { ...rules.selectors } }
}

export interface GuardHandlerInit {
  reputation: PeerReputation
  /** Per-peer limiter; a refused request costs the peer a `flood` penalty. Default: none (no limit). */
  limiter?: RateLimiter
  /** Per-peer byte budget: each request takes its length; over it, refused as a flood. Default: none. */
  byteLimiter?: RateLimiter
  /** Protocol name for error messages. Default: `'request'`. */
  protocol?: string
}

/**
 * Wraps a `PeerMessaging` protocol handler: banned peers and peers over their rate limit are
 * refused before the handler runs, and validators run by the handler can name the sender.
 */
export function guardProtocolHandler(handler: ProtocolHandler, init: GuardHandlerInit): ProtocolHandler {
  const what = init.protocol ?? 'request'
  return async (request, from) => {
    if (init.reputation.isBanned(from.id)) throw new PeerBannedError(from.id)
    if (init.limiter != null && !init.limiter.tryTake(from.id)) {
      init.reputation.onFlood(from.id)
      throw new RateLimitedError(from.id, what)
    }
    if (init.byteLimiter != null && !init.byteLimiter.tryTake(from.id, request.byteLength)) {
      init.reputation.onFlood(from.id)
      throw new RateLimitedError(from.id, what)
    }
    return inboundPeer.run(from.id, () => handler(request, from))
  }
}

export interface AttachReputationInit {
  reputation: PeerReputation
  /**
   * Inbound-stream protocols to guard (e.g. the kad protocol `/CHORUS/kad/1.0.0`): streams of banned
   * peers are aborted, each stream takes a token from `limiter`, and validators run while handling
   * them can name the sender. They must already be handled (call after the node started).
   * Default: none.
   */
  protocols?: string[]
  /**
   * Per-peer limiter for those streams. Default: 200 streams at once, 100 per second per peer
   * (a busy honest peer opens a few per second). `false` for no limit.
   */
  limiter?: RateLimiter | false
  /**
   * Per-peer byte budget for those streams: each record a peer offers on them (kad-dht PUT_VALUE)
   * takes its value's length before it is validated; over it, the record is refused and costs a
   * `flood` penalty. Default: none.
   */
  byteLimiter?: RateLimiter | false
  /** Close every connection to a peer as soon as it is banned. Default: true. */
  hangUpOnBan?: boolean
  logger?: Logger
}

/**
 * Connects the reputation system to a running libp2p node: hangs up on peers when they get banned
 * and guards the given inbound protocols. The connection gater (`reputation.gater`) must be given to
 * libp2p when the node is built. Returns a function that undoes what it did (restores handlers).
 */
export async function attachReputation(
  node: Libp2p,
  init: AttachReputationInit
): Promise<() => Promise<void>> {
  const { reputation } = init
  const log = init.logger ?? silentLogger
  const limiter =
    init.limiter === false
      ? undefined
      : (init.limiter ?? createRateLimiter({ burst: 200, ratePerSecond: 100 }))
  const byteLimiter = init.byteLimiter === false ? undefined : init.byteLimiter
  const undo: Array<() => Promise<void> | void> = []
  if (init.hangUpOnBan !== false) {
    undo.push(
      reputation.onBan((info) => {
        node.hangUp(peerIdFromString(info.peer)).catch((err: unknown) => {
          log.debug({ peer: info.peer, err: String(err) }, 'hang-up of a banned peer failed')
        })
      })
    )
  }
  for (const protocol of init.protocols ?? []) {
    const original = protocolHandler(node, protocol)
    if (original == null) {
      log.warn({ protocol }, 'cannot guard protocol: no handler registered')
      continue
    }
    const inner = original.handler
    const guarded: StreamHandler = (stream: Stream, connection: Connection) => {
      const peer = connection.remotePeer.toString()
      if (reputation.isBanned(peer)) {
        stream.abort(new PeerBannedError(peer))
        return
      }
      if (limiter != null && !limiter.tryTake(peer)) {
        reputation.onFlood(peer)
        stream.abort(new RateLimitedError(peer, protocol))
        return
      }
      const budget = byteLimiter != null ? (bytes: number) => byteLimiter.tryTake(peer, bytes) : undefined
      return inboundPeer.run(peer, () =>
        budget != null
          ? inboundRecordBudget.run(budget, () => inner(stream, connection))
          : inner(stream, connection)
      )
    }
    await node.handle(protocol, guarded, { ...original.options, force: true })
    undo.push(async () => {
      if (node.status === 'started') await node.handle(protocol, inner, { ...original.options, force: true })
    })
  }
  return async () => {
    for (const u of undo.reverse()) await u()
  }
}

export { isInvalidRecordEvent } from '../libp2p/kad-internals.js'
