import { hasWildcard, type ResolvedAddress, resolveAddress } from '../address.js'
import { MAX_CERTIFICATE_BYTES } from '../envelope.js'
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
import { authorize, type WriteAuthority } from '../record-check.js'
import type { StorageKeyring, StorageRoles } from '../types.js'
import { checkDecision, DECISION_CONTENT_TYPE, type DecisionFields } from './decision-content.js'

const CONTENT_TYPE_RE = /^[A-Za-z0-9_.+/-]{1,64}$/

export interface StorePolicyComponents {
  roles: StorageRoles
  keyring: Pick<StorageKeyring, 'holdsRole'>
}

export interface StorePolicyInit {
  /** Largest content accepted, in bytes. */
  maxContentBytes: number
}

/** A store that passed the policy: its resolved address and, for a decision, its index fields. */
export interface CheckedStore extends ResolvedAddress {
  decision?: DecisionFields
}

/**
 * What a store must satisfy before anything is encrypted: a concrete address (no wildcard) that
 * names the latest version, content within `maxContentBytes`, a valid content type (content of
 * type `decision` must be a valid decision record), and a creator role that exists, may store,
 * owns the address and whose key this node holds. Returns the resolved address; throws the
 * storage error of the first rule broken.
 */
export function checkStore(
  components: StorePolicyComponents,
  init: StorePolicyInit,
  address: string,
  data: unknown,
  creatorRole: string,
  contentType: string
): CheckedStore {
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
  const decision = contentType === DECISION_CONTENT_TYPE ? checkDecision(data) : undefined
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
  return decision === undefined ? r : { ...r, decision }
}

export interface WriteRuleComponents {
  /** The team's write rule (team mode). Default: none (open mode). */
  authority?: WriteAuthority
  /** This node's member certificate, read at each store (a reload reaches a running storage). */
  certificate?: () => Uint8Array | undefined
  /** The key that signs this node's envelopes. */
  signer: { readonly publicKey: Uint8Array }
}

/**
 * The team's write rule on the record this node is about to sign, before anything is encrypted or
 * sent: the certificate read now, this node's key, the address and the creator role. Returns the
 * certificate the envelope carries (null without one); throws `AccessDeniedError` when the rule
 * refuses (open mode: never).
 */
export function checkWriteRule(
  components: WriteRuleComponents,
  r: ResolvedAddress,
  creatorRole: string
): Uint8Array | null {
  const given = components.certificate?.()
  const certificate = given !== undefined && given.byteLength > 0 ? given : null
  if (certificate !== null && certificate.byteLength > MAX_CERTIFICATE_BYTES) {
    throw new AccessDeniedError(r.base, `this node's certificate is over ${MAX_CERTIFICATE_BYTES} bytes`)
  }
  if (components.authority !== undefined) {
    authorize(
      components.authority,
      {
        address: r.base,
        creatorRole,
        author: components.signer.publicKey,
        certificate,
        timestamp: Date.now()
      },
      "this node's certificate does not allow it to write this address"
    )
  }
  return certificate
}
