/**
 * @chorus/team: the team's root of trust. A team root key (whole in a 0600 file, or split into
 * Shamir shares combined in memory for one signing step), the root-signed and versioned team
 * manifest (roles, their age recipients, issuers), member certificates that bind an agent and its
 * roles to a libp2p node key, and the policy every node runs: the write rule, peer admission, and
 * the manifest's DHT record rules. Pure: no libp2p, no network, no I/O beyond the root file.
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
  InvalidInputError,
  InvalidManifestError,
  InvalidSharesError,
  NotAMemberError,
  type ShareFailure,
  SignerWipedError,
  StaleManifestError,
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
export { createManifest, openManifest, predefinedTeamRoles, signManifest, teamRolesOf } from './manifest.js'
export type { RoleRecipient, TeamIssuer, TeamManifest, TeamRole } from './manifest-types.js'
export { createTeamMember, type TeamMember, type TeamMemberInit } from './member.js'
export { type AdmittedMember, createTeamPolicy, type TeamPolicy, type TeamPolicyStats } from './policy.js'
export { TEAM_KEY_PREFIX, teamManifestKey, teamRecordSelector, teamRecordValidator } from './records.js'
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
export { combineTeamRootShares, splitTeamRoot, withTeamRoot } from './shares.js'
export type { AuthoredRecord } from './write-rule.js'
