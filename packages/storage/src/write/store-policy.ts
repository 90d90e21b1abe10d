import { hasWildcard, type ResolvedAddress, resolveAddress } from '../address.js'
import {
  AccessDeniedError,
  ContentTooLargeError,
  InvalidAddressError,
  InvalidContentTypeError,
  ReadOnlyRoleError,
  STORAGE_ERROR_CODES,
  StorageError,
  UnknownCreatorRoleError
} from '../errors.js'
import type { StorageKeyring, StorageRoles } from '../types.js'

const CONTENT_TYPE_RE = /^[A-Za-z0-9_.+/-]{1,64}$/

export interface StorePolicyComponents {
  roles: StorageRoles
  keyring: StorageKeyring
}

export interface StorePolicyInit {
  /** Largest content accepted, in bytes. */
  maxContentBytes: number
}

/**
 * What a store must satisfy before anything is encrypted: a concrete address (no wildcard) that
 * names the latest version, content within `maxContentBytes`, a valid content type, and a creator
 * role that exists, may store, owns the address and whose key this node holds. Returns the
 * resolved address; throws the storage error of the first rule broken.
 */
export function checkStore(
  components: StorePolicyComponents,
  init: StorePolicyInit,
  address: string,
  data: unknown,
  creatorRole: string,
  contentType: string
): ResolvedAddress {
  const r = resolveAddress(address)
  if (hasWildcard(r.parsed)) throw new InvalidAddressError(address, 'a wildcard address cannot be stored to')
  if (r.parsed.temporal.kind !== 'latest') {
    throw new InvalidAddressError(address, 'a store writes the next version: use *^ or no temporal segment')
  }
  if (!(data instanceof Uint8Array)) {
    throw new StorageError('content must be a Uint8Array or a string', STORAGE_ERROR_CODES.BAD_REQUEST)
  }
  if (data.byteLength > init.maxContentBytes)
    throw new ContentTooLargeError(data.byteLength, init.maxContentBytes)
  if (typeof contentType !== 'string' || !CONTENT_TYPE_RE.test(contentType)) {
    throw new InvalidContentTypeError(String(contentType))
  }
  const { roles, keyring } = components
  if (typeof creatorRole !== 'string' || !roles.has(creatorRole))
    throw new UnknownCreatorRoleError(String(creatorRole))
  if (!roles.canStore(creatorRole)) throw new ReadOnlyRoleError(creatorRole)
  if (r.parsed.role !== creatorRole) {
    throw new AccessDeniedError(r.base, `the address belongs to role ${r.parsed.role}, not ${creatorRole}`)
  }
  if (!keyring.holdsRole(creatorRole)) {
    throw new AccessDeniedError(r.base, `this node holds no key of role ${creatorRole}`)
  }
  return r
}
