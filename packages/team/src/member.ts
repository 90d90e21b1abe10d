/**
 * This node as a member: its own certificate, verified under the policy, and the admission rule
 * in the shape of `PeerAdmission` of @chorus/dht (matched structurally: this package does not
 * depend on the DHT).
 */
import { copyBytes } from '@chorus/common'
import type { MemberCertificate } from './certificate.js'
import type { AdmittedMember, TeamPolicy } from './policy.js'

/** What `createTeamMember` takes. */
export interface TeamMemberInit {
  /** The team's policy. */
  policy: TeamPolicy
  /** This node's member certificate. */
  certificate: Uint8Array
}

/** This node's membership: a `PeerAdmission` for the DHT, and what its certificate says. */
export interface TeamMember {
  /** This node's certificate, decoded and verified when the member was made. */
  readonly member: MemberCertificate
  /** This node's certificate bytes (a copy), sent to every peer it connects to. */
  certificate(): Uint8Array
  /**
   * Admits a peer by its authenticated raw 32-byte Ed25519 key and the certificate it sent.
   * @throws NotAMemberError (`TEAM_NOT_A_MEMBER`) when it is not a member of this team.
   */
  admit(peerKey: Uint8Array, certificate: Uint8Array): AdmittedMember
}

/**
 * This node's membership of the policy's team.
 * @throws InvalidCertificateError (`TEAM_INVALID_CERTIFICATE`) when `certificate` does not verify
 *   under the policy (now).
 */
export function createTeamMember(init: TeamMemberInit): TeamMember {
  const { policy } = init
  const member = policy.verifyCertificate(init.certificate)
  const bytes = copyBytes(init.certificate)
  return Object.freeze({
    member,
    certificate: () => copyBytes(bytes),
    admit: (peerKey: Uint8Array, certificate: Uint8Array) => policy.admit(peerKey, certificate)
  })
}
