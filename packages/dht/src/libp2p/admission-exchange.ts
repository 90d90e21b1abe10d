/**
 * The edge of the admission protocol (handlers/admission.ts describes the exchange): the dialer's
 * side, and the listener's stream handler, which reads and bounds the one message, allows one
 * exchange per connection and a few per peer (`ADMISSION_ATTEMPTS`), and hands the certificate
 * to the handler. Only a message that breaks the framing, or a second exchange on a connection,
 * costs the peer reputation; a flood of exchanges costs it a `flood` penalty.
 */
import { anySignal, errorText, type Logger } from '@chorus/common'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { PeerNotAdmittedError } from '../errors.js'
import { RateLimitedError } from '../reputation/errors.js'
import { createRateLimiter, type RateLimiter, type RateLimiterInit } from '../reputation/rate-limiter.js'
import type { PeerReputation } from '../reputation/reputation.js'
import { ADMISSION_MAX_BYTES } from './handlers/admission.js'
import { boundedLpStream, isMalformedFrame, isUnsupportedProtocol } from './messaging.js'
import { ed25519KeyOf } from './peer-key.js'

/** Inbound admission exchanges a peer may start: 4 at once, then one every 10 s. */
export const ADMISSION_ATTEMPTS: RateLimiterInit = Object.freeze({ burst: 4, ratePerSecond: 0.1 })

export interface AdmissionExchangeComponents {
  /** This node's certificate (at most `ADMISSION_MAX_BYTES`). */
  certificate(): Uint8Array
  /** The dialer decides on the listener's answer. */
  decide(peer: PeerId, certificate: Uint8Array): unknown
  /** The listener's handler of the dialer's certificate: the answer, or undefined when refused. */
  respond(peer: PeerId, certificate: Uint8Array): Uint8Array | undefined
  /** Refuses a peer; `malformed`: it broke the framing. */
  refuse(peer: PeerId, reason: string, options?: { malformed?: boolean }): void
  reputation?: Pick<PeerReputation, 'penalise' | 'onFlood'> | undefined
  /** Aborts when the node stops. */
  stopSignal(): AbortSignal
  logger: Logger
}

export interface AdmissionExchangeInit {
  protocol: string
  /** Time limit of one exchange, in ms. */
  timeout: number
}

/** Both sides of the admission exchange. */
export class AdmissionExchange {
  readonly #c: AdmissionExchangeComponents
  readonly #init: AdmissionExchangeInit
  /** Connections that ran their inbound exchange already (one per connection). */
  readonly #exchanged = new WeakSet<Connection>()
  readonly #attempts: RateLimiter = createRateLimiter(ADMISSION_ATTEMPTS)

  constructor(components: AdmissionExchangeComponents, init: AdmissionExchangeInit) {
    this.#c = components
    this.#init = init
  }

  /** The dialer's side: sends this node's certificate, decides on the answer. */
  async dial(connection: Connection, runSignal: AbortSignal): Promise<void> {
    const peer = connection.remotePeer
    // nothing is sent to a peer that cannot be admitted
    if (ed25519KeyOf(peer) == null) {
      this.#c.refuse(peer, 'its peer id is not an Ed25519 key')
      return
    }
    const signal = anySignal(AbortSignal.timeout(this.#init.timeout), runSignal)
    let stream: Stream
    try {
      stream = await connection.newStream(this.#init.protocol, { signal, runOnLimitedConnection: true })
    } catch (err) {
      if (isUnsupportedProtocol(err)) this.#c.refuse(peer, 'it does not speak the admission protocol')
      else this.#c.logger.debug({ peer: peer.toString(), err: errorText(err) }, 'admission stream failed')
      return
    }
    let answer: Uint8Array
    try {
      const lp = boundedLpStream(stream, ADMISSION_MAX_BYTES)
      await lp.write(this.#c.certificate(), { signal })
      answer = (await lp.read({ signal })).subarray()
      await stream.close({ signal })
    } catch (err) {
      stream.abort(asError(err))
      if (isMalformedFrame(err)) this.#c.refuse(peer, 'malformed admission message', { malformed: true })
      // else the listener refused this node, or the connection went: the deadline decides
      else this.#c.logger.debug({ peer: peer.toString(), err: errorText(err) }, 'admission exchange failed')
      return
    }
    this.#c.decide(peer, answer)
  }

  /** The listener's side: the stream handler of the admission protocol. */
  async accept(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer
    const id = peer.toString()
    if (this.#exchanged.has(connection)) {
      this.#c.reputation?.penalise(id, 'invalid-message')
      stream.abort(new PeerNotAdmittedError(id))
      return
    }
    this.#exchanged.add(connection)
    if (!this.#attempts.tryTake(id)) {
      this.#c.reputation?.onFlood(id)
      stream.abort(new RateLimitedError(id, this.#init.protocol))
      return
    }
    const signal = anySignal(AbortSignal.timeout(this.#init.timeout), this.#c.stopSignal())
    try {
      const lp = boundedLpStream(stream, ADMISSION_MAX_BYTES)
      const certificate = await lp.read({ signal }).catch((err: unknown) => {
        if (isMalformedFrame(err)) this.#c.refuse(peer, 'malformed admission message', { malformed: true })
        throw err
      })
      const answer = this.#c.respond(peer, certificate.subarray())
      if (answer == null) {
        stream.abort(new PeerNotAdmittedError(id))
        return
      }
      await lp.write(answer, { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(asError(err))
      this.#c.logger.debug({ peer: id, err: errorText(err) }, 'inbound admission exchange failed')
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
