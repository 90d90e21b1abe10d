/**
 * Errors of the team package, on the common `ChorusError` base, with codes declared once in
 * {@link TEAM_ERROR_CODES}. Every message is a fixed text chosen by this package: none echoes a
 * share, a key, a certificate, a manifest or an address it was given (they may be secrets, or a
 * peer's bytes). Where a refusal has several causes, a `reason` field from a fixed set names it.
 */
import { ChorusError, InvalidInputError } from '@chorus/common'

export { InvalidInputError }

/** Every code this package's errors carry. */
export const TEAM_ERROR_CODES = {
  INVALID_INPUT: 'TEAM_INVALID_INPUT',
  INVALID_SHARES: 'TEAM_INVALID_SHARES',
  ROOT_FILE: 'TEAM_ROOT_FILE',
  SIGNER_WIPED: 'TEAM_SIGNER_WIPED',
  INVALID_MANIFEST: 'TEAM_INVALID_MANIFEST',
  STALE_MANIFEST: 'TEAM_STALE_MANIFEST',
  INVALID_CERTIFICATE: 'TEAM_INVALID_CERTIFICATE',
  WRITE_DENIED: 'TEAM_WRITE_DENIED',
  NOT_A_MEMBER: 'TEAM_NOT_A_MEMBER',
  INVALID_RECORD: 'TEAM_INVALID_RECORD',
  INVALID_REVOCATIONS: 'TEAM_INVALID_REVOCATIONS',
  INVALID_GRANT: 'TEAM_INVALID_GRANT',
  STALE_RECORD: 'TEAM_STALE_RECORD'
} as const
export type TeamErrorCode = (typeof TEAM_ERROR_CODES)[keyof typeof TEAM_ERROR_CODES]
const C = TEAM_ERROR_CODES

/** Options every team error takes. */
export interface TeamErrorOptions {
  cause?: unknown
}

/** The base of this package's errors. */
export abstract class TeamError extends ChorusError {}

/** A bad argument: the shared `InvalidInputError` with this package's code. */
export function invalidInput(field: string, reason: string): InvalidInputError {
  return new InvalidInputError(field, reason, { code: C.INVALID_INPUT, message: `${field} ${reason}` })
}

/**
 * Why a set of Shamir shares was refused:
 * - `malformed`: a share is not `chorus-team-share-v1:<team>:<k>:<index>:<base64url>` text;
 * - `too-few`: fewer shares than the threshold they name;
 * - `mixed-teams`: shares of different teams;
 * - `mixed-thresholds`: shares that name different thresholds;
 * - `duplicate`: the same share (index or x coordinate) twice;
 * - `wrong-key`: the combined seed's public key is not the team id (a corrupted or forged share).
 */
export type ShareFailure =
  | 'malformed'
  | 'too-few'
  | 'mixed-teams'
  | 'mixed-thresholds'
  | 'duplicate'
  | 'wrong-key'

const SHARE_TEXT: Record<ShareFailure, string> = {
  malformed: 'a share is malformed',
  'too-few': 'fewer shares than the threshold',
  'mixed-teams': 'the shares belong to different teams',
  'mixed-thresholds': 'the shares name different thresholds',
  duplicate: 'the same share was given twice',
  'wrong-key': 'the shares do not combine to the team root (a share is corrupted or forged)'
}

/** Shares that cannot be combined into the team root. Never echoes a share. */
export class InvalidSharesError extends TeamError {
  readonly reason: ShareFailure

  constructor(reason: ShareFailure, options?: TeamErrorOptions) {
    super(`cannot combine team root shares: ${SHARE_TEXT[reason]}`, {
      code: C.INVALID_SHARES,
      cause: options?.cause
    })
    this.reason = reason
  }
}

/** A team root file cannot be read, written or parsed, or other users may access it. */
export class TeamRootFileError extends TeamError {
  readonly path: string

  constructor(path: string, message: string, options?: TeamErrorOptions) {
    super(`${path}: ${message}`, { code: C.ROOT_FILE, cause: options?.cause })
    this.path = path
  }
}

/** A signer handed out by `withTeamRoot` was used after its seed was wiped. */
export class SignerWipedError extends TeamError {
  constructor() {
    super('the team root signer was used after withTeamRoot wiped its seed', { code: C.SIGNER_WIPED })
  }
}

/**
 * A team manifest that does not decode, is out of bounds, is inconsistent, or does not verify
 * with the team root. `detail` is a fixed text of this package naming the rule it broke.
 */
export class InvalidManifestError extends TeamError {
  readonly detail: string

  constructor(detail: string, options?: TeamErrorOptions) {
    super(`invalid team manifest: ${detail}`, { code: C.INVALID_MANIFEST, cause: options?.cause })
    this.detail = detail
  }
}

/** A valid manifest that does not supersede the current one (a lower version, or the same version with other content). */
export class StaleManifestError extends TeamError {
  /** The version offered. */
  readonly version: number
  /** The version in force. */
  readonly current: number

  constructor(version: number, current: number) {
    super(`team manifest version ${version} does not supersede the current version ${current}`, {
      code: C.STALE_MANIFEST
    })
    this.version = version
    this.current = current
  }
}

/**
 * Why a member certificate was refused:
 * - `malformed`: not the canonical, bounded encoding of a certificate;
 * - `other-team`: a certificate of another team;
 * - `unknown-issuer`: signed by a key that is neither the root nor an issuer of the current manifest;
 * - `bad-signature`: the signature does not verify with its issuer;
 * - `unknown-role`: it names a role the current manifest does not define;
 * - `not-yet-valid` / `expired`: now is outside `[notBefore, notAfter)`.
 */
export type CertificateFailure =
  | 'malformed'
  | 'other-team'
  | 'unknown-issuer'
  | 'bad-signature'
  | 'unknown-role'
  | 'not-yet-valid'
  | 'expired'
  | 'revoked'

const CERTIFICATE_TEXT: Record<CertificateFailure, string> = {
  malformed: 'the certificate is malformed',
  'other-team': 'the certificate belongs to another team',
  'unknown-issuer': 'the certificate is not signed by the root or an issuer of the team',
  'bad-signature': 'the certificate signature does not verify',
  'unknown-role': 'the certificate names a role the team does not define',
  'not-yet-valid': 'the certificate is not valid yet',
  expired: 'the certificate has expired',
  revoked: 'the certificate belongs to a revoked member'
}

/** A member certificate that does not verify. `detail` is a fixed text of this package. */
export class InvalidCertificateError extends TeamError {
  readonly reason: CertificateFailure
  readonly detail: string

  constructor(reason: CertificateFailure, detail?: string, options?: TeamErrorOptions) {
    super(CERTIFICATE_TEXT[reason], { code: C.INVALID_CERTIFICATE, cause: options?.cause })
    this.reason = reason
    this.detail = detail ?? CERTIFICATE_TEXT[reason]
  }
}

/** Why a write was refused by the team's write rule (see `TeamPolicy.authorizeWrite`). */
export type WriteDenial =
  | 'no-certificate'
  | 'invalid-certificate'
  | 'expired'
  | 'not-yet-valid'
  | 'unknown-role'
  | 'invalid-address'
  | 'wrong-node-key'
  | 'wrong-agent'
  | 'wrong-role'
  | 'creator-role'
  | 'read-only'
  | 'revoked'

const WRITE_TEXT: Record<WriteDenial, string> = {
  'no-certificate': 'the record carries no member certificate',
  'invalid-certificate': 'the member certificate does not verify',
  expired: 'the member certificate has expired',
  'not-yet-valid': 'the member certificate is not valid yet',
  'unknown-role': 'the member certificate names a role the team does not define',
  'invalid-address': 'the record address is not a canonical address of one piece of content',
  'wrong-node-key': 'the record author is not the node key of the certificate',
  'wrong-agent': 'the address agent is not the agent of the certificate',
  'wrong-role': 'the address role is not one of the roles of the certificate',
  'creator-role': 'the creator role is not the address role',
  'read-only': 'the role is read-only in this team',
  revoked: 'the author was revoked before this record was signed'
}

/** A record that the team's write rule refuses. The message is a fixed text per `reason`. */
export class WriteDeniedError extends TeamError {
  readonly reason: WriteDenial

  constructor(reason: WriteDenial, options?: TeamErrorOptions) {
    super(`write denied: ${WRITE_TEXT[reason]}`, { code: C.WRITE_DENIED, cause: options?.cause })
    this.reason = reason
  }
}

/** Why a peer was not admitted (see `TeamPolicy.admit`). */
export type AdmissionDenial =
  | 'invalid-certificate'
  | 'expired'
  | 'not-yet-valid'
  | 'unknown-role'
  | 'wrong-node-key'
  | 'revoked'

const ADMISSION_TEXT: Record<AdmissionDenial, string> = {
  'invalid-certificate': 'its certificate does not verify',
  expired: 'its certificate has expired',
  'not-yet-valid': 'its certificate is not valid yet',
  'unknown-role': 'its certificate names a role the team does not define',
  'wrong-node-key': 'its certificate is for another node key',
  revoked: 'it has been revoked'
}

/** A peer that is not a member of this team. The message is a fixed text per `reason`. */
export class NotAMemberError extends TeamError {
  readonly reason: AdmissionDenial

  constructor(reason: AdmissionDenial, options?: TeamErrorOptions) {
    super(`not a member of this team: ${ADMISSION_TEXT[reason]}`, {
      code: C.NOT_A_MEMBER,
      cause: options?.cause
    })
    this.reason = reason
  }
}

/**
 * Why a DHT record under `/CHORUS/team/` was refused:
 * - `wrong-key`: not one of this team's keys (manifest, revocation list, a member's grant);
 * - `invalid-manifest`: not a manifest of this team signed by its root;
 * - `invalid-revocations`: not a revocation list of this team signed by its root;
 * - `invalid-grant`: not a key grant of this team, for the key's agent, signed by the root or an
 *   issuer of the manifest.
 */
export type TeamRecordFailure = 'wrong-key' | 'invalid-manifest' | 'invalid-revocations' | 'invalid-grant'

const RECORD_TEXT: Record<TeamRecordFailure, string> = {
  'wrong-key': 'not a team record key of this team',
  'invalid-manifest': 'not a manifest of this team signed by the team root',
  'invalid-revocations': 'not a revocation list of this team signed by the team root',
  'invalid-grant': 'not a key grant of this team for this agent signed by the root or an issuer'
}

/** A DHT record under this team's keys that its rules refuse. Fixed text per `reason`. */
export class TeamRecordError extends TeamError {
  readonly reason: TeamRecordFailure

  constructor(reason: TeamRecordFailure, options?: TeamErrorOptions) {
    super(RECORD_TEXT[reason], { code: C.INVALID_RECORD, cause: options?.cause })
    this.reason = reason
  }
}

/**
 * A revocation list that does not decode, is out of bounds, or does not verify with the team
 * root. `detail` is a fixed text of this package naming the rule it broke.
 */
export class InvalidRevocationsError extends TeamError {
  readonly detail: string

  constructor(detail: string, options?: TeamErrorOptions) {
    super(`invalid team revocation list: ${detail}`, { code: C.INVALID_REVOCATIONS, cause: options?.cause })
    this.detail = detail
  }
}

/**
 * A key grant that does not decode, is out of bounds, is not signed by the root or an issuer of
 * the manifest, or (opened) does not hold exactly the keys it lists. `detail` is a fixed text.
 */
export class InvalidGrantError extends TeamError {
  readonly detail: string

  constructor(detail: string, options?: TeamErrorOptions) {
    super(`invalid key grant: ${detail}`, { code: C.INVALID_GRANT, cause: options?.cause })
    this.detail = detail
  }
}

/** A valid revocation list or grant that does not supersede the one held (a lower version, or the same with other bytes). */
export class StaleTeamRecordError extends TeamError {
  /** `revocations` or `grant`. */
  readonly kind: 'revocations' | 'grant'
  /** The version offered. */
  readonly version: number
  /** The version held. */
  readonly current: number

  constructor(kind: 'revocations' | 'grant', version: number, current: number) {
    super(`team ${kind} version ${version} does not supersede the held version ${current}`, {
      code: C.STALE_RECORD
    })
    this.kind = kind
    this.version = version
    this.current = current
  }
}

/** Maps a certificate failure to the write rule's reason. */
export function writeDenialOf(failure: CertificateFailure): WriteDenial {
  if (
    failure === 'expired' ||
    failure === 'not-yet-valid' ||
    failure === 'unknown-role' ||
    failure === 'revoked'
  )
    return failure
  return 'invalid-certificate'
}

/** Maps a certificate failure to the admission reason. */
export function admissionDenialOf(failure: CertificateFailure): AdmissionDenial {
  if (
    failure === 'expired' ||
    failure === 'not-yet-valid' ||
    failure === 'unknown-role' ||
    failure === 'revoked'
  )
    return failure
  return 'invalid-certificate'
}
