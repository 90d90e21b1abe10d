/**
 * A small, honest stand-in for `@chorus/team`'s write rule (not in this worktree): a team root
 * Ed25519 key signs member certificates (agent, roles, node key); the authority accepts a record
 * only when its certificate is signed by the root, binds the record's author key, names the
 * address's agent, includes the address role, which equals `creatorRole` and is not read-only.
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { getPredefinedRoles } from '@chorus/crypto'
import { parseAddress } from '@chorus/ucxl'
import { decode, encode, rfc8949EncodeOptions } from 'cborg'
import { verifyEd25519 } from '../src/ed25519.js'
import type { AuthoredRecord, WriteAuthority } from '../src/record-check.js'

const CONTEXT = new TextEncoder().encode('TEST-TEAM-CERTIFICATE\n')

interface CertificateBody {
  agent: string
  roles: string[]
  key: Uint8Array
}

function rawPublicKey(publicKey: KeyObject): Uint8Array {
  const x = publicKey.export({ format: 'jwk' }).x
  if (x === undefined) throw new Error('no public key')
  return new Uint8Array(Buffer.from(x, 'base64url'))
}

function signingBytes(body: CertificateBody): Uint8Array {
  return Buffer.concat([CONTEXT, encode(body, rfc8949EncodeOptions)])
}

/** A test team: its root key issues certificates; `authority` is its write rule. */
export class TestTeam {
  readonly #root = generateKeyPairSync('ed25519')
  readonly rootKey = rawPublicKey(this.#root.publicKey)
  /** How many records the rule judged, and how many it refused (tests check it ran). */
  readonly judged = { allowed: 0, refused: 0 }

  /** A certificate for `agent` with `roles`, bound to the node key `nodeKey`, signed by the root. */
  issue(agent: string, roles: string[], nodeKey: Uint8Array): Uint8Array {
    return TestTeam.sign({ agent, roles, key: nodeKey }, this.#root.privateKey)
  }

  /** The same certificate signed by another key (not this team's root). */
  static forge(agent: string, roles: string[], nodeKey: Uint8Array): Uint8Array {
    return TestTeam.sign({ agent, roles, key: nodeKey }, generateKeyPairSync('ed25519').privateKey)
  }

  private static sign(body: CertificateBody, key: KeyObject): Uint8Array {
    const signature = new Uint8Array(sign(null, signingBytes(body), key))
    return encode({ ...body, signature }, rfc8949EncodeOptions)
  }

  /** Throws (a plain Error, as a foreign package's error would be) when the author may not write. */
  authorizeWrite(record: AuthoredRecord): void {
    try {
      this.decide(record)
      this.judged.allowed++
    } catch (err) {
      this.judged.refused++
      throw err
    }
  }

  private decide(record: AuthoredRecord): void {
    if (record.certificate === null) throw new Error('no certificate')
    let cert: CertificateBody & { signature: Uint8Array }
    try {
      cert = decode(record.certificate, { strict: true })
    } catch {
      throw new Error('certificate does not decode')
    }
    const { agent, roles, key, signature } = cert
    if (
      typeof agent !== 'string' ||
      !Array.isArray(roles) ||
      !(key instanceof Uint8Array) ||
      !(signature instanceof Uint8Array)
    ) {
      throw new Error('certificate is malformed')
    }
    if (!verifyEd25519(this.rootKey, signingBytes({ agent, roles, key }), signature)) {
      throw new Error('certificate is not signed by the team root')
    }
    if (!Buffer.from(key).equals(record.author)) throw new Error('certificate is for another node key')
    const address = parseAddress(record.address)
    if (address.agent !== agent) throw new Error('address belongs to another agent')
    if (!roles.includes(address.role)) throw new Error('address role is not one of the certificate roles')
    if (address.role !== record.creatorRole) throw new Error('creator role differs from the address role')
    const role = getPredefinedRoles()[address.role]
    if (role === undefined || role.authority === 'read_only') throw new Error('role may not write')
  }

  /** The team's write rule. */
  get authority(): WriteAuthority {
    return { authorizeWrite: (r) => this.authorizeWrite(r) }
  }
}
