/**
 * Admission (`init.admission`): a peer proves its membership of this node's team before any CHORUS
 * protocol serves it. The dht package moves the bytes; the `PeerAdmission` given decides.
 *
 * Each connection, in either direction, runs one exchange of the admission protocol
 * (handlers/admission.ts): the dialer sends its certificate, the listener decides and answers with
 * its own only when it admitted the dialer, the dialer decides on the answer. Both decide on the
 * raw Ed25519 key of the remote peer id, which the connection's Noise handshake authenticated, so
 * a certificate replayed by another node does not fit its key. When both ends dial at once each
 * connection runs its exchange; verdicts are kept per peer and agree, so the two converge.
 *
 * A peer is refused when the decision throws, when its peer id is not Ed25519, when identify shows
 * it does not speak the admission protocol, or when its admission message breaks the framing
 * (which alone costs it reputation: a non-member is not necessarily malicious). A refused peer is
 * hung up on, taken out of kad-dht's routing table and kept out by the connection gater for the
 * deny period (admission-gate.ts). A peer that proves nothing within `admissionTimeout` is hung
 * up on (not denied: it may be a slow member). An admission lasts while the peer stays connected
 * and its certificate is valid: when `notAfter` passes it is dropped and the peer hung up on, so
 * it must admit itself again.
 */
import { errorText, type Logger } from '@chorus/common'
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import type { AbortOptions, AdmittedMember, PeerAdmission } from '../contract.js'
import { DHTConfigError, PeerNotAdmittedError, PeerUnreachableError } from '../errors.js'
import { createRateLimiter, type RateLimiter, type RateLimiterInit } from '../reputation/rate-limiter.js'
import type { PeerReputation } from '../reputation/reputation.js'
import { AdmissionExchange } from './admission-exchange.js'
import type { AdmissionGate } from './admission-gate.js'
import { ADMISSION_MAX_BYTES, admissionHandler } from './handlers/admission.js'
import type { RoutingTableAccess } from './kad-internals.js'
import type { RunState, Scheduler } from './lifetime.js'
import type { ChorusLibp2p } from './node.js'
import { ed25519KeyOf } from './peer-key.js'
import { PeerWaits } from './peer-waits.js'

/** Refusals logged at most: a burst of 10, then one a minute (the counts are exact). */
const REFUSAL_LOG_LIMIT: RateLimiterInit = { burst: 10, ratePerSecond: 1 / 60 }
/** setTimeout's longest delay; a later `notAfter` is waited for in steps. */
const MAX_TIMER = 2 ** 31 - 1

/** Admission figures (for metrics). */
export interface AdmissionStats {
  /** Peers admitted right now. */
  admitted: number
  /** Admissions granted since start (a peer admitted again, or on two connections, counts again). */
  admissions: number
  /** Refusals since start: no admission protocol, no, a bad or another node's certificate, a malformed message. */
  refused: number
  /** Peers hung up on since start because they proved nothing within `admissionTimeout`. */
  timedOut: number
  /** Admissions dropped since start because the certificate's `notAfter` passed. */
  expired: number
  /** Peers refused right now (the connection gater keeps them out for the deny period). */
  denied: number
}

export interface AdmissionComponents {
  node: ChorusLibp2p
  /** The deny set and the connection gate the node was built with. */
  gate: AdmissionGate
  /** kad-dht's routing table: refused and timed-out peers are taken out of it. */
  routingTable: RoutingTableAccess
  /** Charges a malformed admission message and floods of exchanges; undefined when off. */
  reputation?: Pick<PeerReputation, 'penalise' | 'onFlood'> | undefined
  /** The node's run; the dialer's exchanges run in its background. */
  run: RunState & Pick<Scheduler, 'background'>
  logger: Logger
}

export interface AdmissionInit {
  admission: PeerAdmission
  /** `${protocolPrefix}/admission/1.0.0` */
  protocol: string
  /** How long a peer may take to prove its membership, in ms. */
  timeout: number
  /** Clock in ms (tests). Default: `Date.now`. */
  now?: () => number
}

interface Admitted {
  peer: PeerId
  member: AdmittedMember
  expiry: ReturnType<typeof setTimeout>
}

/** The admission of peers: the exchange, the verdicts, the admitted members and the waits for them. */
export class Admission {
  readonly #c: AdmissionComponents
  readonly #init: AdmissionInit
  readonly #now: () => number
  readonly #members = new Map<string, Admitted>()
  /** Those waiting for a peer's verdict (true: admitted). */
  readonly #waits = new PeerWaits()
  /** Connections whose peer must be admitted before the timer fires. */
  readonly #deadlines = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #refusalLog: RateLimiter = createRateLimiter(REFUSAL_LOG_LIMIT)
  readonly #exchange: AdmissionExchange
  readonly #counts = { admissions: 0, refused: 0, timedOut: 0, expired: 0 }
  #undo: Array<() => void> = []

  constructor(components: AdmissionComponents, init: AdmissionInit) {
    this.#c = components
    this.#init = init
    this.#now = init.now ?? Date.now
    const decide = (peer: PeerId, certificate: Uint8Array) => this.#decide(peer, certificate)
    const certificate = () => this.#certificate()
    this.#exchange = new AdmissionExchange(
      {
        certificate,
        decide,
        respond: admissionHandler({ decide, certificate }),
        refuse: (peer, reason, options) => this.#refuse(peer, reason, options),
        reputation: components.reputation,
        stopSignal: () => components.run.signal,
        logger: components.logger
      },
      { protocol: init.protocol, timeout: init.timeout }
    )
  }

  /** Serves the admission protocol, watches connections, then lets connections in. */
  async start(): Promise<void> {
    const { node, gate, routingTable } = this.#c
    this.#certificate() // a certificate that cannot be sent fails the start
    await node.handle(
      this.#init.protocol,
      (stream, connection) => this.#exchange.accept(stream, connection),
      {
        maxInboundStreams: 2,
        maxOutboundStreams: 2,
        // relayed connections prove membership too, or a NATed member is hung up on before DCUtR
        runOnLimitedConnection: true
      }
    )
    const listen = (
      type: 'connection:open' | 'connection:close' | 'peer:identify' | 'peer:disconnect',
      listener: (detail: never) => void
    ): void => {
      const l = (evt: Event): void => listener((evt as CustomEvent).detail as never)
      node.addEventListener(type, l)
      this.#undo.push(() => node.removeEventListener(type, l))
    }
    listen('connection:open', (connection: Connection) => this.#onOpen(connection))
    listen('connection:close', (connection: Connection) => this.#onClose(connection))
    listen('peer:identify', (result: IdentifyResult) => this.#onIdentify(result))
    listen('peer:disconnect', (peer: PeerId) => this.#onDisconnect(peer))
    this.#undo.push(
      routingTable.onAdded((peer) => {
        if (gate.isDenied(peer.toString())) this.#dropFromRoutingTable(peer)
      })
    )
    for (const connection of node.getConnections()) this.#onOpen(connection)
    gate.open()
  }

  /** Keeps connections out, stops serving the protocol, forgets every admission. */
  async stop(): Promise<void> {
    this.#c.gate.close()
    for (const u of this.#undo.splice(0)) u()
    for (const t of this.#deadlines.values()) clearTimeout(t)
    this.#deadlines.clear()
    for (const a of this.#members.values()) clearTimeout(a.expiry)
    this.#members.clear()
    this.#waits.settleAll(false)
    await this.#c.node.unhandle(this.#init.protocol).catch(() => {})
  }

  /** What the peer proved, while it is admitted. */
  member(peer: string): AdmittedMember | undefined {
    const a = this.#members.get(peer)
    if (a == null || a.member.notAfter <= this.#now()) return undefined
    return copyMember(a.member)
  }

  /** Every peer admitted right now. */
  members(): Array<{ peer: string } & AdmittedMember> {
    const t = this.#now()
    return [...this.#members]
      .filter(([, a]) => a.member.notAfter > t)
      .map(([peer, a]) => ({ peer, ...copyMember(a.member) }))
  }

  /** Refuses an admitted or connected peer (a revoked member); false when it is neither. */
  expel(peer: string): boolean {
    const conn = this.#c.node.getConnections().find((c) => c.remotePeer.toString() === peer)
    const id = this.#members.get(peer)?.peer ?? conn?.remotePeer
    if (id == null) return false
    this.#refuse(id, 'it was expelled (revoked by the team)')
    return true
  }

  isAdmitted(peer: string): boolean {
    return this.member(peer) != null
  }

  stats(): AdmissionStats {
    return { admitted: this.members().length, ...this.#counts, denied: this.#c.gate.deniedNow }
  }

  /**
   * Resolves once the peer is admitted (at once when it is); rejects with `PeerNotAdmittedError`
   * when it is refused, disconnects or is not admitted within `admissionTimeout`.
   */
  async waitAdmitted(peer: PeerId | string, options: AbortOptions = {}): Promise<AdmittedMember> {
    const id = peer.toString()
    const now = this.member(id)
    if (now != null) return now
    if (this.#c.gate.isDenied(id) || !this.#c.run.started) throw new PeerNotAdmittedError(id)
    const admitted = await this.#waits.wait(id, this.#init.timeout, options.signal)
    const member = admitted ? this.member(id) : undefined
    if (member == null) throw new PeerNotAdmittedError(id)
    return member
  }

  /**
   * For a request to a peer: connects to it when needed and waits for its admission
   * (`PeerNotAdmittedError`; `PeerUnreachableError` when it cannot be dialled).
   */
  async reach(peer: PeerId, options: AbortOptions = {}): Promise<void> {
    const id = peer.toString()
    if (this.isAdmitted(id)) return
    if (this.#c.gate.isDenied(id)) throw new PeerNotAdmittedError(id)
    if (this.#c.node.getConnections(peer).length === 0) {
      try {
        await this.#c.node.dial(peer, options)
      } catch (err) {
        options.signal?.throwIfAborted()
        if (this.#c.gate.isDenied(id)) throw new PeerNotAdmittedError(id, { cause: err })
        throw new PeerUnreachableError(id, { cause: err })
      }
    }
    await this.waitAdmitted(peer, options)
  }

  #certificate(): Uint8Array {
    const certificate = this.#init.admission.certificate()
    if (!(certificate instanceof Uint8Array) || certificate.byteLength > ADMISSION_MAX_BYTES) {
      throw new DHTConfigError(
        `this node's certificate must be a Uint8Array of at most ${ADMISSION_MAX_BYTES} bytes`
      )
    }
    return certificate
  }

  #onOpen(connection: Connection): void {
    if (!this.#c.run.started) return
    const id = connection.remotePeer.toString()
    if (this.#c.gate.isDenied(id)) {
      connection.abort(new PeerNotAdmittedError(id))
      return
    }
    if (connection.direction === 'outbound') {
      this.#c.run.background('admission exchange', (signal) => this.#exchange.dial(connection, signal))
    }
    if (!this.isAdmitted(id)) {
      const timer = setTimeout(() => {
        this.#deadlines.delete(connection.id)
        this.#onDeadline(connection)
      }, this.#init.timeout)
      timer.unref?.()
      this.#deadlines.set(connection.id, timer)
    }
  }

  #onClose(connection: Connection): void {
    const timer = this.#deadlines.get(connection.id)
    if (timer !== undefined) clearTimeout(timer)
    this.#deadlines.delete(connection.id)
  }

  /** A peer that announces its protocols without the admission protocol will never prove anything. */
  #onIdentify(result: IdentifyResult): void {
    if (!this.#c.run.started || this.isAdmitted(result.peerId.toString())) return
    if (!result.protocols.includes(this.#init.protocol)) {
      this.#refuse(result.peerId, 'it does not speak the admission protocol')
    }
  }

  /** An admission lasts while the peer is connected: a new connection proves membership again. */
  #onDisconnect(peer: PeerId): void {
    if (this.#c.node.getConnections(peer).length > 0) return
    const id = peer.toString()
    this.#forget(id)
    this.#waits.settle(id, false)
  }

  #onDeadline(connection: Connection): void {
    const id = connection.remotePeer.toString()
    if (!this.#c.run.started || this.isAdmitted(id) || connection.status !== 'open') return
    if (!this.#c.gate.isDenied(id)) {
      this.#counts.timedOut++
      this.#c.logger.debug({ peer: id }, 'peer proved no membership in time; hanging up')
    }
    this.#waits.settle(id, false)
    this.#hangUp(connection.remotePeer)
    this.#dropFromRoutingTable(connection.remotePeer)
  }

  /** Decides on a peer's certificate: admits it (what it proved) or refuses it (undefined). */
  #decide(peer: PeerId, certificate: Uint8Array): AdmittedMember | undefined {
    const id = peer.toString()
    if (!this.#c.run.started || this.#c.gate.isDenied(id)) return undefined
    const key = ed25519KeyOf(peer)
    if (key == null) {
      this.#refuse(peer, 'its peer id is not an Ed25519 key')
      return undefined
    }
    let member: AdmittedMember
    try {
      member = copyMember(this.#init.admission.admit(key, certificate))
    } catch (err) {
      this.#refuse(peer, 'its certificate was not accepted', { cause: err })
      return undefined
    }
    if (!(member.notAfter > this.#now())) {
      this.#refuse(peer, 'its certificate has expired')
      return undefined
    }
    this.#admit(peer, member)
    return member
  }

  #admit(peer: PeerId, member: AdmittedMember): void {
    const id = peer.toString()
    const previous = this.#members.get(id)
    if (previous != null) clearTimeout(previous.expiry)
    this.#members.set(id, { peer, member, expiry: this.#expiryTimer(id, member.notAfter) })
    this.#counts.admissions++
    this.#c.logger.debug({ peer: id, agent: member.agent }, 'peer admitted')
    this.#waits.settle(id, true)
  }

  #expiryTimer(id: string, notAfter: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(
      () => {
        const a = this.#members.get(id)
        if (a == null || a.expiry !== timer) return
        if (a.member.notAfter > this.#now()) {
          a.expiry = this.#expiryTimer(id, a.member.notAfter)
          return
        }
        this.#members.delete(id)
        this.#counts.expired++
        this.#c.logger.info(
          { peer: id, agent: a.member.agent },
          'admission expired; the peer must admit itself again'
        )
        this.#hangUp(a.peer)
      },
      Math.min(MAX_TIMER, Math.max(0, notAfter - this.#now()))
    )
    timer.unref?.()
    return timer
  }

  /** Refuses a peer: deny period, hang-up, out of the routing table; reputation only when malformed. */
  #refuse(peer: PeerId, reason: string, options: { malformed?: boolean; cause?: unknown } = {}): void {
    const id = peer.toString()
    const already = this.#c.gate.isDenied(id)
    this.#c.gate.deny(id)
    this.#forget(id)
    if (options.malformed === true) this.#c.reputation?.penalise(id, 'invalid-message')
    if (!already) {
      this.#counts.refused++
      if (this.#refusalLog.tryTake('log')) {
        this.#c.logger.info(
          { peer: id, reason, ...(options.cause != null ? { err: errorText(options.cause) } : {}) },
          'peer refused admission'
        )
      }
    }
    this.#waits.settle(id, false)
    this.#hangUp(peer)
    this.#dropFromRoutingTable(peer)
  }

  #forget(id: string): void {
    const a = this.#members.get(id)
    if (a == null) return
    clearTimeout(a.expiry)
    this.#members.delete(id)
  }

  #hangUp(peer: PeerId): void {
    this.#c.node.hangUp(peer).catch((err: unknown) => {
      this.#c.logger.debug({ peer: peer.toString(), err: errorText(err) }, 'hang-up failed')
    })
  }

  #dropFromRoutingTable(peer: PeerId): void {
    this.#c.routingTable.remove(peer).catch((err: unknown) => {
      this.#c.logger.debug({ peer: peer.toString(), err: errorText(err) }, 'routing table removal failed')
    })
  }
}

function copyMember(m: AdmittedMember): AdmittedMember {
  return { agent: String(m.agent), roles: [...m.roles].map(String), notAfter: Number(m.notAfter) }
}
