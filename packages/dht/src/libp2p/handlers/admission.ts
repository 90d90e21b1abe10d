/**
 * The admission protocol (`${protocolPrefix}/admission/1.0.0`), one exchange per connection: the
 * dialer sends its certificate (one length-prefixed message of at most `ADMISSION_MAX_BYTES`);
 * the listener decides on it and answers with its own certificate only when it admitted the
 * dialer, so a non-member learns nothing of the team; the dialer then decides on that answer. The
 * edge (reading and bounding the message, one exchange per connection, rate limits) is in
 * admission.ts; this handler takes the certificate as read.
 */
import type { PeerId } from '@libp2p/interface'
import type { AdmittedMember } from '../../contract.js'

/** Largest certificate sent or read (a member certificate is a few hundred bytes). */
export const ADMISSION_MAX_BYTES = 8 * 1024

/** The admission protocol of a protocol prefix. */
export function admissionProtocol(protocolPrefix: string): string {
  return `${protocolPrefix}/admission/1.0.0`
}

export interface AdmissionHandlerComponents {
  /** Decides on a peer (admits or refuses it): what it proved, or undefined when it was refused. */
  decide(peer: PeerId, certificate: Uint8Array): AdmittedMember | undefined
  /** This node's own certificate. */
  certificate(): Uint8Array
}

/**
 * The handler of one inbound admission message (the dialer's certificate): this node's
 * certificate when the dialer is admitted, undefined (the stream is aborted) when it is not.
 */
export function admissionHandler(
  components: AdmissionHandlerComponents
): (peer: PeerId, certificate: Uint8Array) => Uint8Array | undefined {
  return (peer, certificate) =>
    components.decide(peer, certificate) != null ? components.certificate() : undefined
}
