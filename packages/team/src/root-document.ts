/**
 * What the team's root-signed documents (the manifest, the revocation list) share: signing the
 * canonical CBOR of their fields after a context of their own, and opening them: strict decoding
 * within a size bound, exactly their fields, canonical bytes, the team id of the root key and
 * the root's signature. Each kind gives its rules, its wire fields and its own error.
 */
import { SIGNATURE_BYTES, verifySignature } from './ed25519.js'
import {
  byteString,
  decodeStrict,
  encodeCanonical,
  exactKeys,
  Fault,
  fault,
  requireCanonical,
  signingBytes,
  toBase64url
} from './encoding.js'
import { invalidInput } from './errors.js'
import { checkKey, signChecked, type TeamSigner, teamIdOf } from './root.js'

/** One kind of root-signed document. */
export interface RootDocumentKind<T extends { team: string }> {
  /** What refusals call it, e.g. `manifest`. */
  what: string
  /** Domain separation: the bytes before the signed body. */
  context: Uint8Array
  /** Its fields, without `signature`. */
  fields: readonly string[]
  /** Largest encoding, in bytes. */
  maxBytes(): number
  /** Every rule but the signature; returns a fresh copy. Throws `Fault`. */
  check(input: unknown): T
  /** The fields as encoded (and signed). */
  wire(doc: T): Record<string, unknown>
  /** The kind's own error for a broken rule (a fixed text, never the input). */
  refuse(detail: string): Error
}

/** Runs `fn`, turning a `Fault` into the kind's error. */
export function guardedBy<T extends { team: string }, R>(kind: RootDocumentKind<T>, fn: () => R): R {
  try {
    return fn()
  } catch (err) {
    if (err instanceof Fault) throw kind.refuse(err.detail)
    throw err
  }
}

/** Checks `doc`, signs it with the team root and encodes it. */
export function signRootDocument<T extends { team: string }>(
  kind: RootDocumentKind<T>,
  doc: T,
  signer: TeamSigner
): Uint8Array {
  const checked = guardedBy(kind, () => kind.check(doc))
  checkKey(signer?.publicKey, 'signer.publicKey')
  if (toBase64url(signer.publicKey) !== checked.team) {
    throw invalidInput('signer', `is not the root of the team the ${kind.what} names`)
  }
  const fields = kind.wire(checked)
  const signature = signChecked(signer, signingBytes(kind.context, fields))
  const bytes = encodeCanonical({ ...fields, signature })
  if (bytes.byteLength > kind.maxBytes()) throw kind.refuse('over the size limit')
  return bytes
}

/** Decodes `bytes` and verifies it against the team root `rootKey`. */
export function openRootDocument<T extends { team: string }>(
  kind: RootDocumentKind<T>,
  bytes: Uint8Array,
  rootKey: Uint8Array
): T {
  checkKey(rootKey, 'rootKey')
  return guardedBy(kind, () => {
    const raw = exactKeys(decodeStrict(bytes, kind.maxBytes()), [...kind.fields, 'signature'], kind.what)
    const signature = byteString(raw.signature, SIGNATURE_BYTES, 'signature')
    const { signature: _omitted, ...unsigned } = raw
    const doc = kind.check(unsigned)
    const fields = kind.wire(doc)
    requireCanonical(bytes, { ...fields, signature })
    if (doc.team !== teamIdOf(rootKey)) fault('signed for another team')
    if (!verifySignature(rootKey, signingBytes(kind.context, fields), signature)) {
      fault('signature does not verify with the team root')
    }
    return doc
  })
}
