/**
 * Verified certificates by the SHA-256 of their bytes, least recently used first out. Only
 * certificates that verified under the current manifest are kept; the policy clears the cache
 * when the manifest changes and re-checks the validity window on every hit.
 */
import type { MemberCertificate } from './certificate.js'
import { DigestLru } from './digest-lru.js'

export class CertificateCache extends DigestLru<MemberCertificate> {}
