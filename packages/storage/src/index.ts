/**
 * @chorus/storage: EncryptedDHTStorage. Signed, versioned, age-encrypted UCXL content on a CHORUS
 * `DHT`, with a cache, a persistent local index for list/search, and an audit log signed with the
 * node key.
 */
export { headKey, KEY_PREFIX, parseRecordKey, versionKey } from './address.js'
export type { AuditInput, AuditOperation } from './audit.js'
export { type Consistency, type EncryptedStorageInit, encryptedStorageDefaults } from './config.js'
export {
  type DirectRecord,
  MAX_REQUEST_BYTES as RECORD_PROTOCOL_MAX_REQUEST_BYTES,
  RECORD_PROTOCOL,
  REFUSAL_CODES as RECORD_REFUSAL_CODES,
  type RefusalCode as RecordRefusalCode
} from './direct/protocol.js'
export { verifyEd25519 } from './ed25519.js'
export {
  DEFAULT_MAX_ENVELOPE_BYTES,
  DEFAULT_MAX_RECIPIENT_STANZAS,
  type DecodeEnvelopeOptions,
  decodeEnvelope,
  ENVELOPE_FORMAT,
  type Envelope,
  type EnvelopeMetadata,
  encodeEnvelope,
  envelopeHash,
  isTombstone,
  MAX_CERTIFICATE_BYTES,
  openEnvelope,
  signEnvelope,
  signingBytes,
  TOMBSTONE_KIND,
  type UnsignedEnvelope,
  verifyEnvelope
} from './envelope.js'
export {
  AccessDeniedError,
  AnnounceNotAcknowledgedError,
  ContentDeletedError,
  ContentNotFoundError,
  ContentTooLargeError,
  DataDirNotWritableError,
  InsufficientStorageError,
  IntegrityError,
  InvalidAddressError,
  InvalidContentTypeError,
  InvalidDecisionError,
  InvalidEnvelopeError,
  isStorageError,
  MalformedEnvelopeError,
  ReadOnlyRoleError,
  STORAGE_ERROR_CODES,
  StorageError,
  type StorageErrorCode,
  type StorageErrorOptions,
  StorageNotStartedError,
  StorageTimeoutError,
  UnknownCreatorRoleError,
  WriteQuorumError
} from './errors.js'
export type { RecordHolders } from './holders.js'
export type { IndexSource } from './index-db.js'
export {
  type AuthoredRecord,
  authoredRecord,
  createRecordCheck,
  type RecordCheck,
  type RecordCheckInit,
  verifiedRecordsOf,
  type WriteAuthority
} from './record-check.js'
export {
  CHORUS_NAMESPACE,
  type ChorusRecordRulesInit,
  chorusRecordRules,
  compareEnvelopes,
  validateChorusRecord
} from './records.js'
export { createEncryptedStorage } from './storage.js'
export {
  type ChorusSuccessionInit,
  checkSuccession,
  chorusSuccession,
  type HashedEnvelope
} from './succession.js'
export { createTombstones, type TombstoneSeen, type Tombstones } from './tombstones.js'
export type {
  AnnounceResult,
  AuditVerification,
  DeletedEvent,
  DeleteOptions,
  DeleteResult,
  EncryptedStorage,
  EncryptedStorageComponents,
  RetrieveOptions,
  RetrieveResult,
  SearchQuery,
  StorageCrypto,
  StorageKeyring,
  StorageMetrics,
  StorageRoles,
  StoreResult,
  UCXLMetadata
} from './types.js'
export {
  createVerifiedRecords,
  VERIFIED_RECORD_OVERHEAD,
  type VerifiedRecords,
  type VerifiedRecordsInit,
  type VerifiedRecordsStats,
  verifiedRecordsDefaults
} from './verified-records.js'
