/**
 * Who may use this node as a circuit relay (v2): members of the team only, and only while this
 * node believes itself reachable. The relay server and transport ask the connection gater; the
 * gate exists before the node (the gater is built in), the membership check is bound once
 * admission runs (`bind`). Without admission nobody may reserve: the relay is a team service.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/** Resolves true when the peer is (or becomes, within admission's timeout) an admitted member. */
export type MemberCheck = (peer: PeerId) => Promise<boolean>

export class RelayGate {
  #member: MemberCheck | undefined
  #reachable: () => boolean = () => true
  /** Reservations refused since start (non-members, or while this node is not reachable). */
  refusedReservations = 0

  /** Binds the membership check and this node's reachability. */
  bind(member: MemberCheck, reachable: () => boolean): void {
    this.#member = member
    this.#reachable = reachable
  }

  unbind(): void {
    this.#member = undefined
  }

  async #isMember(peer: PeerId): Promise<boolean> {
    const check = this.#member
    if (check == null) return false
    return check(peer).catch(() => false)
  }

  readonly gater: ConnectionGater = {
    // a reservation: only a member, only while we are reachable (a NATed relay helps nobody)
    denyInboundRelayReservation: async (peer: PeerId) => {
      const ok = this.#reachable() && (await this.#isMember(peer))
      if (!ok) this.refusedReservations++
      return !ok
    },
    // a relayed hop through us: both ends must be members
    denyOutboundRelayedConnection: async (source: PeerId, destination: PeerId) =>
      !((await this.#isMember(source)) && (await this.#isMember(destination))),
    // a relayed connection reaching us through a relay: the relay must be a member
    denyInboundRelayedConnection: async (relay: PeerId) => !(await this.#isMember(relay))
  }
}
