import { errorText, timeoutSignal } from '@chorus/common'
import type { Connection, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  InvalidDataLengthError,
  InvalidDataLengthLengthError,
  InvalidMessageLengthError,
  lpStream
} from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'
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

/**
 * Whether a read failed because the peer broke the length-prefixed framing: a length over the
 * limit, a length prefix longer than the limit needs, or a length that is no number. (A stream
 * that ends early is not one: an honest peer that gives up does that.)
 */
export function isMalformedFrame(err: unknown): boolean {
  return (
    err instanceof InvalidDataLengthError ||
    err instanceof InvalidDataLengthLengthError ||
    err instanceof InvalidMessageLengthError
  )
}

/** Bytes of the varint that encodes `n`. */
function varintLength(n: number): number {
  let length = 1
  for (let rest = n; rest >= 0x80; rest = Math.floor(rest / 0x80)) length++
  return length
}

/**
 * A varint length decoder that gives up after `maxBytes` bytes. lpStream's own keeps reading a
 * length prefix whose every byte says "more follows" until the stream ends, buffering it all.
 */
function boundedLengthDecoder(maxBytes: number): (data: Uint8ArrayList) => number {
  return (data) => {
    let value = 0
    for (let i = 0; i < data.byteLength; i++) {
      const byte = data.get(i)
      value += (byte & 0x7f) * 2 ** (7 * i)
      if (byte < 0x80) return value
      if (i + 1 >= maxBytes)
        throw new InvalidDataLengthLengthError('length prefix longer than any allowed length')
    }
    // incomplete: lpStream reads one more byte and asks again
    throw new RangeError('incomplete length prefix')
  }
}

/**
 * A length-prefixed reader/writer on a stream that reads at most `maxDataLength` bytes per message
 * and refuses a length prefix longer than that length needs (`isMalformedFrame` errors).
 */
export function boundedLpStream<T extends Parameters<typeof lpStream>[0]>(stream: T, maxDataLength: number) {
  const maxLengthLength = varintLength(maxDataLength)
  return lpStream(stream, {
    maxDataLength,
    maxLengthLength,
    lengthDecoder: boundedLengthDecoder(maxLengthLength)
  })
}

export interface HandleProtocolOptions {
  maxRequestBytes?: number
  timeout: number
  onError: (err: unknown) => void
  /**
   * Runs before anything of the request is read (admission: waits until the peer is admitted);
   * when it throws, the stream is aborted unread.
   */
  admit?: (connection: Connection) => Promise<unknown>
  /** Hears of a peer whose request broke the framing (`isMalformedFrame`). */
  onInvalidMessage?: (peer: string) => void
}

/** Serves one length-prefixed request with one length-prefixed response. */
export async function handleProtocol(
  node: ChorusLibp2p,
  protocol: string,
  handler: ProtocolHandler,
  opts: HandleProtocolOptions
): Promise<void> {
  await node.unhandle(protocol)
  await node.handle(
    protocol,
    async (stream, connection) => {
      try {
        if (opts.admit != null) await opts.admit(connection)
        const signal = AbortSignal.timeout(opts.timeout)
        const lp = boundedLpStream(stream, opts.maxRequestBytes ?? DEFAULT_MAX_MESSAGE_BYTES)
        const request = await lp.read({ signal }).catch((err: unknown) => {
          if (isMalformedFrame(err)) opts.onInvalidMessage?.(connection.remotePeer.toString())
          throw err
        })
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

/** How many streams one request may open when the first dies before anything was sent. */
const STREAM_ATTEMPTS = 2

/**
 * Sends one request and reads one response.
 *
 * libp2p hands back the stream only after it has negotiated the protocol and then updated its
 * peer store, a step `signal` does not bound and which takes seconds on a loaded machine;
 * meanwhile the peer may reset the stream (its handler gave up waiting for the request) or the
 * connection may close. Such a stream is not written to ("Cannot write to a stream that is
 * closed"): nothing was sent, so the request goes once more on a fresh stream, within the same
 * time limit, and fails as `PeerUnreachableError` if that one dies too.
 */
export async function sendRequest(
  node: ChorusLibp2p,
  peer: string | PeerInfo,
  protocol: string,
  body: Uint8Array,
  options: AbortOptions & {
    maxResponseBytes?: number
    timeout: number
    /** Hears of a peer whose response broke the framing (`isMalformedFrame`). */
    onInvalidMessage?: (peer: string) => void
  }
): Promise<Uint8Array> {
  const peerId = await toPeerId(node, peer)
  const signal = timeoutSignal(options.timeout, options.signal)
  const stream = await openStream(node, peerId, protocol, signal, options.signal)
  try {
    const lp = boundedLpStream(stream, options.maxResponseBytes ?? DEFAULT_MAX_MESSAGE_BYTES)
    await lp.write(body, { signal })
    const response = await lp.read({ signal })
    await stream.close({ signal })
    return response.subarray()
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    if (isMalformedFrame(err)) options.onInvalidMessage?.(peerId.toString())
    options.signal?.throwIfAborted()
    if (err instanceof InvalidDataLengthError) {
      throw new ProtocolError(protocol, 'response exceeds maxResponseBytes', { cause: err })
    }
    throw new ProtocolError(protocol, `request to ${peerId} failed: ${errorText(err)}`, { cause: err })
  }
}

type RequestStream = Awaited<ReturnType<ChorusLibp2p['dialProtocol']>>

/** A writable stream of `protocol` to the peer, on a second try if the first died unused. */
async function openStream(
  node: ChorusLibp2p,
  peerId: PeerId,
  protocol: string,
  signal: AbortSignal,
  callerSignal: AbortSignal | undefined
): Promise<RequestStream> {
  for (let attempt = 1; ; attempt++) {
    let stream: RequestStream
    try {
      stream = await node.dialProtocol(peerId, protocol, { signal })
    } catch (err) {
      callerSignal?.throwIfAborted()
      if (isUnsupportedProtocol(err)) throw new ProtocolError(protocol, `peer ${peerId} does not serve it`)
      throw new PeerUnreachableError(peerId.toString(), { cause: err })
    }
    if (stream.writeStatus === 'writable') return stream
    const dead = new Error(`the stream was ${stream.status} before the request was sent`)
    stream.abort(dead)
    callerSignal?.throwIfAborted()
    if (signal.aborted) {
      throw new ProtocolError(protocol, `request to ${peerId} failed: ${errorText(signal.reason)}`, {
        cause: signal.reason
      })
    }
    if (attempt >= STREAM_ATTEMPTS) throw new PeerUnreachableError(peerId.toString(), { cause: dead })
  }
}

/** Whether opening a stream failed because the peer does not serve the protocol. */
export function isUnsupportedProtocol(err: unknown): boolean {
  return err instanceof Error && (err.name === 'UnsupportedProtocolError' || err.name === 'ProtocolError')
}
