import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { AbortOptions, PeerInfo, ProtocolHandler } from '../contract.js'
import { PeerUnreachableError, ProtocolError } from '../errors.js'
import type { ChorusLibp2p } from './node.js'

/** Default size limit of one request or one response: 4 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

/** Resolves a peer argument to a PeerId, teaching the peer store any addresses it carries. */
export async function toPeerId(node: ChorusLibp2p, peer: string | PeerInfo): Promise<PeerId> {
  const id = typeof peer === 'string' ? peer : peer.id
  let peerId: PeerId
  try {
    peerId = peerIdFromString(id)
  } catch (err) {
    throw new PeerUnreachableError(String(id), { cause: err })
  }
  if (typeof peer !== 'string' && peer.multiaddrs.length > 0) {
    try {
      await node.peerStore.merge(peerId, { multiaddrs: peer.multiaddrs.map((a) => multiaddr(a)) })
    } catch {
      // bad addresses are ignored: the peer store may know better ones
    }
  }
  return peerId
}

/** Serves one length-prefixed request with one length-prefixed response. */
export async function handleProtocol(
  node: ChorusLibp2p,
  protocol: string,
  handler: ProtocolHandler,
  opts: { maxRequestBytes?: number; timeout: number; onError: (err: unknown) => void }
): Promise<void> {
  await node.unhandle(protocol)
  await node.handle(
    protocol,
    async (stream, connection) => {
      const signal = AbortSignal.timeout(opts.timeout)
      try {
        const lp = lpStream(stream, { maxDataLength: opts.maxRequestBytes ?? DEFAULT_MAX_MESSAGE_BYTES })
        const request = await lp.read({ signal })
        const from: PeerInfo = {
          id: connection.remotePeer.toString(),
          multiaddrs: [connection.remoteAddr.toString()]
        }
        const response = await handler(request.subarray(), from)
        await lp.write(response, { signal })
        await stream.close({ signal })
      } catch (err) {
        opts.onError(err)
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      }
    },
    { runOnLimitedConnection: false }
  )
}

/** Sends one request and reads one response. */
export async function sendRequest(
  node: ChorusLibp2p,
  peer: string | PeerInfo,
  protocol: string,
  body: Uint8Array,
  options: AbortOptions & { maxResponseBytes?: number; timeout: number }
): Promise<Uint8Array> {
  const peerId = await toPeerId(node, peer)
  const signal = anySignal(options.signal, AbortSignal.timeout(options.timeout))
  let stream: Awaited<ReturnType<ChorusLibp2p['dialProtocol']>>
  try {
    stream = await node.dialProtocol(peerId, protocol, { signal })
  } catch (err) {
    options.signal?.throwIfAborted()
    if (isUnsupportedProtocol(err)) throw new ProtocolError(protocol, `peer ${peerId} does not serve it`)
    throw new PeerUnreachableError(peerId.toString(), { cause: err })
  }
  if (stream.writeStatus !== 'writable') {
    // The stream died while libp2p was still opening it: after negotiating the protocol it
    // updates its peer store, which `signal` does not bound and which takes seconds on a loaded
    // machine; meanwhile the peer reset the stream (its handler gave up waiting for the request)
    // or the connection closed. Nothing was sent: report that, instead of writing into the dead
    // stream ("Cannot write to a stream that is closed").
    stream.abort(new Error(`stream ${stream.status} before the request was sent`))
    options.signal?.throwIfAborted()
    if (signal.aborted) {
      throw new ProtocolError(protocol, `request to ${peerId} failed: ${describe(signal.reason)}`, {
        cause: signal.reason
      })
    }
    throw new PeerUnreachableError(peerId.toString(), {
      cause: new Error(`the stream was ${stream.status} before the request was sent`)
    })
  }
  try {
    const lp = lpStream(stream, { maxDataLength: options.maxResponseBytes ?? DEFAULT_MAX_MESSAGE_BYTES })
    await lp.write(body, { signal })
    const response = await lp.read({ signal })
    await stream.close({ signal })
    return response.subarray()
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    options.signal?.throwIfAborted()
    if (err instanceof Error && err.name === 'InvalidDataLengthError') {
      throw new ProtocolError(protocol, 'response exceeds maxResponseBytes', { cause: err })
    }
    throw new ProtocolError(protocol, `request to ${peerId} failed: ${describe(err)}`, { cause: err })
  }
}

function isUnsupportedProtocol(err: unknown): boolean {
  return err instanceof Error && (err.name === 'UnsupportedProtocolError' || err.name === 'ProtocolError')
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/** An AbortSignal that fires when any given signal fires. */
export function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s != null))
}
