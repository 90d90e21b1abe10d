export { checkRecipientStanzas } from './age/age.js'
export { decodeArmor, encodeArmor, looksArmored } from './age/armor.js'
export {
  type AgeCrypto,
  type AgeCryptoComponents,
  createAgeCrypto,
  type DecryptedContent,
  type EncryptContentOptions
} from './age-crypto.js'
export { type AgeCryptoInit, ageCryptoDefaults } from './config.js'
export {
  CiphertextIntegrityError,
  CRYPTO_ERROR_CODES,
  CryptoError,
  type CryptoErrorCode,
  DecryptionDeniedError,
  type IntegrityFailure,
  InvalidInputError,
  KeyFileError,
  KeyFormatError,
  MissingRecipientError,
  RolesFileError,
  UnknownRoleError
} from './errors.js'
export {
  checkKeyFileMode,
  formatIdentityFile,
  type IdentityFileEntry,
  parseIdentityFile,
  readIdentityFile,
  writeIdentityFile
} from './identity-file.js'
export { type AddKeyOptions, createKeyring, type RoleKeyring } from './keyring.js'
export {
  generateRoleKey,
  type KeyStatus,
  keyIdOf,
  type RoleKey,
  type RoleKeyInfo,
  roleKeyFromIdentity,
  roleKeyFromRecipient
} from './keys.js'
export {
  AUTHORITY_LEVELS,
  type AuthorityLevel,
  createRoleRegistry,
  getPredefinedRoles,
  type RoleDefinition,
  type RoleRegistry,
  type RoleRegistryOptions,
  type RoleSpec
} from './roles.js'
export { loadRolesFile, parseRolesFile } from './roles-file.js'
