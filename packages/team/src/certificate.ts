/**
 * Member certificates: the root's or an issuer's signed binding of team, agent, roles, the
 * member's libp2p node key and age recipient, validity window and serial. They travel inside
 * every envelope a member writes, so they are small (at most `teamLimits.maxCertificateBytes`)
 * and decoded strictly. Whether one is valid *for a team* is the policy's question
 * (`TeamPolicy.verifyCertificate`); this file only encodes, decodes and checks the signature.
 */
import { copyBytes } from '@chorus/common'
import { type CertificateValidityInit, certificateDefaults, teamLimits } from './config.js'
import { KEY_BYTES, SIGNATURE_BYTES, verifySignature } from './ed25519.js'
import {
  ageRecipient,
  byteString,
  decodeStrict,
  encodeCanonical,
  exactKeys,
  Fault,
  fault,
  int,
  list,
  name,
  requireCanonical,
  signingBytes,
  unique
} from './encoding.js'
import { InvalidCertificateError, invalidInput } from './errors.js'
import { checkKey, isTeamId, signChecked, type TeamSigner } from './root.js'

// Domain separation: a certificate signature can never be replayed as a manifest or an envelope.
const CONTEXT = new TextEncoder().encode('CHORUS-TEAM-CERT-v1\n')
const FIELDS = [
  'team',
  'agent',
  'roles',
  'nodeKey',
  'recipient',
  'notBefore',
  'notAfter',
  'serial',
  'issuer'
] as const
const SIGNED_FIELDS = [...FIELDS, 'signature'] as const
/** The UCXL wildcard: an address with it names no content, so no member is called so. */
const WILDCARD = 'any'

/** A member of a team, as its certificate says. */
export interface MemberCertificate {
  /** The team id. */
  team: string
  /** The agent id (`[A-Za-z0-9_-]{1,64}`, the UCXL agent grammar): the agent of its addresses. */
  agent: string
  /** The roles it may act in (1 to 32, each defined in the manifest). */
  roles: string[]
  /** The raw 32-byte Ed25519 public key of its libp2p node: the key that signs its envelopes. */
  nodeKey: Uint8Array
  /** The member's own age recipient (`age1…`), for grants of role keys. */
  recipient: string
  /** Start of validity, ms since the Unix epoch. */
  notBefore: number
  /** End of validity (exclusive), ms since the Unix epoch. */
  notAfter: number
  /** The issuer's serial number of this certificate. */
  serial: number
  /** The raw 32-byte Ed25519 public key that signed it: the root or an issuer of the manifest. */
  issuer: Uint8Array
}

/** What `issueCertificate` binds: a certificate's fields but the issuer, with a default window. */
export interface CertificateFields extends CertificateValidityInit {
  team: string
  agent: string
  roles: string[]
  nodeKey: Uint8Array
  recipient: string
  serial: number
}

/** A decoded certificate with its signature and the bytes the signature covers. */
export interface SignedCertificate {
  certificate: MemberCertificate
  signature: Uint8Array
  signed: Uint8Array
}

/**
 * Issues a certificate signed by `signer` (the root or an issuer; it becomes `issuer`).
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) when a field breaks a rule of
 *   `decodeCertificate`, the window is empty, the encoding is over `teamLimits.maxCertificateBytes`,
 *   or the signer's signature does not verify with its public key.
 */
export function issueCertificate(fields: CertificateFields, signer: TeamSigner): Uint8Array {
  checkKey(signer?.publicKey, 'signer.publicKey')
  const notBefore = fields.notBefore ?? Date.now()
  const validity = fields.certificateValidity ?? certificateDefaults.certificateValidity
  if (!Number.isSafeInteger(validity) || validity <= 0)
    throw invalidInput('certificateValidity', 'must be a positive integer')
  let certificate: MemberCertificate
  try {
    certificate = checkFields({
      team: fields.team,
      agent: fields.agent,
      roles: fields.roles,
      nodeKey: fields.nodeKey,
      recipient: fields.recipient,
      notBefore,
      notAfter: fields.notAfter ?? notBefore + validity,
      serial: fields.serial,
      issuer: signer.publicKey
    })
  } catch (err) {
    if (err instanceof Fault) throw invalidInput('certificate', err.detail)
    throw err
  }
  const signature = signChecked(
    signer,
    signingBytes(CONTEXT, certificate as unknown as Record<string, unknown>)
  )
  const bytes = encodeCanonical({ ...certificate, signature })
  if (bytes.byteLength > teamLimits.maxCertificateBytes) {
    throw invalidInput('certificate', `encoding is over the ${teamLimits.maxCertificateBytes} byte limit`)
  }
  return bytes
}

/**
 * Decodes a certificate strictly (canonical CBOR within `teamLimits.maxCertificateBytes`, exactly
 * its fields within their bounds). It does not check the signature, the issuer or the window.
 * @throws InvalidCertificateError (`TEAM_INVALID_CERTIFICATE`, reason `malformed`).
 */
export function decodeCertificate(bytes: Uint8Array): MemberCertificate {
  return decodeSignedCertificate(bytes).certificate
}

/** {@link decodeCertificate} with the signature and the signed bytes. */
export function decodeSignedCertificate(bytes: Uint8Array): SignedCertificate {
  try {
    const raw = exactKeys(decodeStrict(bytes, teamLimits.maxCertificateBytes), SIGNED_FIELDS, 'certificate')
    const signature = byteString(raw.signature, SIGNATURE_BYTES, 'signature')
    const { signature: _omitted, ...unsigned } = raw
    const certificate = checkFields(unsigned)
    requireCanonical(bytes, { ...certificate, signature })
    return {
      certificate,
      signature,
      signed: signingBytes(CONTEXT, certificate as unknown as Record<string, unknown>)
    }
  } catch (err) {
    if (err instanceof Fault) throw new InvalidCertificateError('malformed', err.detail)
    throw err
  }
}

/** Whether the certificate's signature verifies with its `issuer`. */
export function signatureVerifies(signed: SignedCertificate): boolean {
  return verifySignature(signed.certificate.issuer, signed.signed, signed.signature)
}

/** A fresh copy (callers may keep and change what they get). */
export function copyCertificate(c: MemberCertificate): MemberCertificate {
  return { ...c, roles: [...c.roles], nodeKey: copyBytes(c.nodeKey), issuer: copyBytes(c.issuer) }
}

function checkFields(input: unknown): MemberCertificate {
  const raw = exactKeys(input, FIELDS, 'certificate')
  if (!isTeamId(raw.team)) fault('team must be a team id')
  const agent = name(raw.agent, 'agent')
  if (agent === WILDCARD) fault('agent must not be the UCXL wildcard')
  const roles = list(raw.roles, teamLimits.maxCertificateRoles, 'roles', 1).map((r) => name(r, 'role'))
  unique(roles, 'roles')
  const notBefore = int(raw.notBefore, 0, Number.MAX_SAFE_INTEGER, 'notBefore')
  const notAfter = int(raw.notAfter, 0, Number.MAX_SAFE_INTEGER, 'notAfter')
  if (notAfter <= notBefore) fault('notAfter must be after notBefore')
  return {
    team: raw.team,
    agent,
    roles,
    nodeKey: byteString(raw.nodeKey, KEY_BYTES, 'nodeKey'),
    recipient: ageRecipient(raw.recipient, 'recipient'),
    notBefore,
    notAfter,
    serial: int(raw.serial, 0, Number.MAX_SAFE_INTEGER, 'serial'),
    issuer: byteString(raw.issuer, KEY_BYTES, 'issuer')
  }
}
