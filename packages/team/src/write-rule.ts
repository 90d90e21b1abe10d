/**
 * The team's write rule, which every validator runs on every record: a valid certificate of this
 * team; its node key is the record's author; the address's agent is its agent; the address's role
 * is one of its roles and the record's creator role; and that role may write (not `read_only`).
 */
import { bytesEqual } from '@chorus/common'
import type { AuthorityLevel } from '@chorus/crypto'
import { baseAddress, parseAddress, type UCXLAddress } from '@chorus/ucxl'
import type { MemberCertificate } from './certificate.js'
import { InvalidCertificateError, WriteDeniedError, writeDenialOf } from './errors.js'

/** What the write rule reads of a record (an envelope's fields). */
export interface AuthoredRecord {
  /**
   * The canonical UCXL address without temporal segment, as envelopes carry it
   * (`ucxl://agent001:backend_developer@project1:task1/decision`).
   */
  address: string
  /** The role that created the content. */
  creatorRole: string
  /** The author's raw 32-byte Ed25519 public key (the node key that signed the record). */
  author: Uint8Array
  /** The author's member certificate, as the record carries it; null when it carries none. */
  certificate: Uint8Array | null
  /**
   * When the author signed it (the envelope's timestamp), ms since the Unix epoch: a revoked
   * author's records are judged by it. Absent counts as signed after any revocation.
   */
  timestamp?: number
}

/** What the rule needs of the policy. */
export interface WriteRuleComponents {
  verifyCertificate(bytes: Uint8Array): MemberCertificate
  authorityOf(role: string): AuthorityLevel | undefined
}

const WILDCARD = 'any'

function contentAddress(address: unknown): UCXLAddress | null {
  if (typeof address !== 'string') return null
  try {
    const parsed = parseAddress(address)
    const wildcard = [parsed.agent, parsed.role, parsed.project, parsed.task].includes(WILDCARD)
    // One spelling per address: the canonical one, without temporal segment.
    return wildcard || baseAddress(parsed) !== address ? null : parsed
  } catch {
    return null
  }
}

/**
 * Applies the write rule; returns the author's certificate.
 * @throws WriteDeniedError (`TEAM_WRITE_DENIED`) with the first rule the record breaks.
 */
export function authorizeWrite(components: WriteRuleComponents, record: AuthoredRecord): MemberCertificate {
  const bytes = record?.certificate
  if (!(bytes instanceof Uint8Array)) throw new WriteDeniedError('no-certificate')
  let certificate: MemberCertificate
  try {
    certificate = components.verifyCertificate(bytes)
  } catch (err) {
    if (InvalidCertificateError.isInstance(err))
      throw new WriteDeniedError(writeDenialOf(err.reason), { cause: err })
    throw err
  }
  if (!(record.author instanceof Uint8Array) || !bytesEqual(record.author, certificate.nodeKey)) {
    throw new WriteDeniedError('wrong-node-key')
  }
  const address = contentAddress(record.address)
  if (address === null) throw new WriteDeniedError('invalid-address')
  if (address.agent !== certificate.agent) throw new WriteDeniedError('wrong-agent')
  if (!certificate.roles.includes(address.role)) throw new WriteDeniedError('wrong-role')
  if (record.creatorRole !== address.role) throw new WriteDeniedError('creator-role')
  const authority = components.authorityOf(address.role)
  // verifyCertificate refuses a certificate with a role the manifest lacks; undefined is defensive.
  if (authority === undefined) throw new WriteDeniedError('unknown-role')
  if (authority === 'read_only') throw new WriteDeniedError('read-only')
  return certificate
}
