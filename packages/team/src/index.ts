/**
 * @chorus/team: the team's root of trust. A team root key (whole in a 0600 file, or split into
 * Shamir shares combined in memory for one signing step), the root-signed and versioned team
 * manifest (roles, their age recipients, issuers), member certificates that bind an agent and its
 * roles to a libp2p node key, the key lifecycle (root-signed revocation lists, key grants
 * encrypted to a member's own key, role key rotation), and the policy every node runs: the write
 * rule, peer admission, and the DHT record rules of the team's records. Pure: no libp2p, no network, no I/O beyond the root file.
 *
 * @packageDocumentation
 */
export {
  type CertificateFields,
  decodeCertificate,
  issueCertificate,
  type MemberCertificate
} from './certificate.js'
export {
  type CertificateValidityInit,
  certificateDefaults,
  type ManifestInit,
  manifestDefaults,
  type TeamPolicyInit,
  type TeamShareInit,
  teamLimits,
  teamPolicyDefaults,
  teamShareDefaults
} from './config.js'
export {
  type AdmissionDenial,
  type CertificateFailure,
  InvalidCertificateError,
  InvalidGrantError,
  InvalidInputError,
  InvalidManifestError,
  InvalidRevocationsError,
  InvalidSharesError,
  NotAMemberError,
  type ShareFailure,
  SignerWipedError,
  StaleManifestError,
  StaleTeamRecordError,
  TEAM_ERROR_CODES,
  TeamError,
  type TeamErrorCode,
  type TeamErrorOptions,
  TeamRecordError,
  type TeamRecordFailure,
  TeamRootFileError,
  type WriteDenial,
  WriteDeniedError
} from './errors.js'
export {
  createKeyGrant,
  decryptKeyGrant,
  type GrantedKey,
  type KeyGrant,
  type KeyGrantInit,
  openKeyGrant
} from './grant.js'
export { createManifest, openManifest, predefinedTeamRoles, signManifest, teamRolesOf } from './manifest.js'
export type { RoleRecipient, TeamIssuer, TeamManifest, TeamRole } from './manifest-types.js'
export { createTeamMember, type TeamMember, type TeamMemberInit } from './member.js'
export { type AdmittedMember, createTeamPolicy, type TeamPolicy, type TeamPolicyStats } from './policy.js'
export {
  TEAM_KEY_PREFIX,
  type TeamRecordKind,
  teamGrantKey,
  teamManifestKey,
  teamRecordKind,
  teamRecordSelector,
  teamRecordValidator,
  teamRevocationsKey
} from './records.js'
export {
  openRevocations,
  type RevocationList,
  type RevokedMember,
  revocationOf,
  signRevocations
} from './revocation.js'
export {
  generateTeamRoot,
  isTeamId,
  parseTeamId,
  rootSigner,
  TEAM_ID_LENGTH,
  type TeamRoot,
  type TeamSigner,
  teamIdOf
} from './root.js'
export { loadTeamRoot, saveTeamRoot } from './root-file.js'
export { type RoleRotationInit, rotateRoleKey } from './rotation.js'
export { combineTeamRootShares, splitTeamRoot, withTeamRoot } from './shares.js'
export type { AuthoredRecord } from './write-rule.js'
