/**
 * The admission guard on inbound streams of protocols other components registered (kad-dht's):
 * a stream from a peer that is not admitted yet waits for its admission (up to `admissionTimeout`),
 * and a refused or timed-out peer's stream is aborted before the protocol's handler sees it.
 * The protocols served through `PeerMessagingService` are guarded in `handleProtocol` instead.
 */
import type { Libp2p, PeerId, StreamHandler } from '@libp2p/interface'
import type { Logger } from '../contract.js'
import { protocolHandler } from './kad-internals.js'

/** Waits until a peer is admitted; rejects (`PeerNotAdmittedError`) when it is not. */
export type WaitAdmitted = (peer: PeerId) => Promise<unknown>

/**
 * Re-registers the handlers of `protocols` (they must be handled already: call after the node
 * started) behind the admission guard. Returns a function that restores them.
 */
export async function guardAdmittedStreams(
  node: Libp2p,
  protocols: string[],
  waitAdmitted: WaitAdmitted,
  logger: Logger
): Promise<() => Promise<void>> {
  const undo: Array<() => Promise<void>> = []
  for (const protocol of protocols) {
    const original = protocolHandler(node, protocol)
    if (original == null) {
      logger.warn({ protocol }, 'cannot guard protocol with admission: no handler registered')
      continue
    }
    const inner = original.handler
    const guarded: StreamHandler = async (stream, connection) => {
      try {
        await waitAdmitted(connection.remotePeer)
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        return
      }
      await inner(stream, connection)
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
