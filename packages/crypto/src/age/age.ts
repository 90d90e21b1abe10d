import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto'
import { CiphertextIntegrityError, DecryptionDeniedError } from '../errors.js'
import { decodeArmor, encodeArmor, looksArmored } from './armor.js'
import { decodeRawBase64, encodeRawBase64 } from './base64.js'
import { type EphemeralKeySource, sharedEphemeralKeys } from './ephemeral-keys.js'
import { encodeHeaderNoMac, encodeMacLine, parseHeader, type Stanza } from './format.js'
import { hkdfSha256, hmacSha256, macEqual } from './kdf.js'
import { decryptStream, encryptStream, payloadLength } from './stream.js'
import { agree, importPublicKey, type X25519Identity, type X25519Recipient } from './x25519.js'

// The whole age v1 format natively (https://age-encryption.org/v1): X25519 recipient stanzas, the
// header HMAC and the STREAM payload, with node:crypto doing every X25519, SHA-256 and
// ChaCha20-Poly1305 operation. Byte-compatible with age and age-encryption (tested against the
// C2SP/CCTV vectors and the `age` command-line tool).

const X25519_LABEL = Buffer.from('age-encryption.org/v1/X25519')
const HEADER_LABEL = Buffer.from('header')
const PAYLOAD_LABEL = Buffer.from('payload')
const EMPTY = Buffer.alloc(0)
const ZERO_NONCE = Buffer.alloc(12)
const FILE_KEY_SIZE = 16
const NONCE_SIZE = 16

// Keys go to createCipheriv as secret KeyObjects: with a raw Buffer, Node's key-type probing costs
// about twice the whole cipher call (measured), while createSecretKey skips it.

function seal(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', createSecretKey(key), ZERO_NONCE, { authTagLength: 16 })
  const ct = cipher.update(plaintext)
  cipher.final()
  return Buffer.concat([ct, cipher.getAuthTag()])
}

function open(key: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  const decipher = createDecipheriv('chacha20-poly1305', createSecretKey(key), ZERO_NONCE, {
    authTagLength: 16
  })
  decipher.setAuthTag(sealed.subarray(sealed.length - 16))
  const pt = decipher.update(sealed.subarray(0, sealed.length - 16))
  try {
    decipher.final()
    return pt
  } catch {
    return undefined
  }
}

function wrapX25519(fileKey: Uint8Array, recipient: X25519Recipient, keys: EphemeralKeySource): Stanza {
  // A fresh ephemeral key for every stanza and file, as the spec requires.
  const { privateKey, share } = keys.take()
  const secret = agree(privateKey, recipient.publicKey)
  const wrapKey = hkdfSha256(secret, Buffer.concat([share, recipient.publicRaw]), X25519_LABEL)
  secret.fill(0)
  return { type: 'X25519', args: [encodeRawBase64(share)], body: seal(wrapKey, fileKey) }
}

export interface EncryptOptions {
  /** ASCII-armor the output. Default false (binary). */
  armor?: boolean
  /** Where the stanzas' ephemeral keys come from. Default: the process-wide worker-thread pool. */
  ephemeralKeys?: EphemeralKeySource
}

/**
 * Encrypts `plaintext` to every recipient (one file key, one X25519 stanza each, in the order of
 * `recipients`). The work is synchronous native crypto (a small record takes a fraction of a
 * millisecond): on a thread pool the hand-offs cost more than the X25519 work they would spread.
 */
export async function encryptAge(
  plaintext: Uint8Array,
  recipients: readonly X25519Recipient[],
  options: EncryptOptions = {}
): Promise<Buffer> {
  if (recipients.length === 0) throw new RangeError('encryptAge needs at least one recipient')
  const keys = options.ephemeralKeys ?? sharedEphemeralKeys()
  const fileKey = randomBytes(FILE_KEY_SIZE)
  const stanzas = recipients.map((r) => wrapX25519(fileKey, r, keys))
  const headerNoMac = encodeHeaderNoMac(stanzas)
  const mac = hmacSha256(hkdfSha256(fileKey, EMPTY, HEADER_LABEL), headerNoMac)
  const macLine = encodeMacLine(mac)
  const nonce = randomBytes(NONCE_SIZE)
  const streamKey = hkdfSha256(fileKey, nonce, PAYLOAD_LABEL)
  fileKey.fill(0)
  const headerLength = headerNoMac.length + macLine.length
  const out = Buffer.allocUnsafe(headerLength + NONCE_SIZE + payloadLength(plaintext.length))
  out.set(headerNoMac, 0)
  out.set(macLine, headerNoMac.length)
  out.set(nonce, headerLength)
  encryptStream(streamKey, plaintext, out, headerLength + NONCE_SIZE)
  return options.armor === true ? encodeArmor(out) : out
}

/** Caches each stanza's imported ephemeral share across identities within one decryption. */
type ShareCache = Map<Stanza, { shareRaw: Buffer; shareKey: KeyObject }>

/** The share of an X25519 stanza, checked and imported once per decryption. */
function shareOf(s: Stanza, cache: ShareCache): { shareRaw: Buffer; shareKey: KeyObject } {
  const hit = cache.get(s)
  if (hit !== undefined) return hit
  // A malformed stanza of our type is a hard error, as in the reference implementation.
  if (s.args.length !== 1) throw new CiphertextIntegrityError('header', 'invalid X25519 stanza (arguments)')
  const shareRaw = decodeRawBase64(s.args[0] ?? '')
  if (shareRaw === undefined || shareRaw.length !== 32) {
    throw new CiphertextIntegrityError('header', 'invalid X25519 stanza (share)')
  }
  if (s.body.length !== FILE_KEY_SIZE + 16) {
    throw new CiphertextIntegrityError('header', 'invalid X25519 stanza (file key size)')
  }
  let shareKey: KeyObject
  try {
    shareKey = importPublicKey(shareRaw)
  } catch (cause) {
    throw new CiphertextIntegrityError('header', 'invalid X25519 stanza (invalid share)', { cause })
  }
  const entry = { shareRaw, shareKey }
  cache.set(s, entry)
  return entry
}

/** One unwrap: the file key when this stanza was made for this identity. */
function unwrapX25519(s: Stanza, id: X25519Identity, cache: ShareCache): Buffer | undefined {
  const { shareRaw, shareKey } = shareOf(s, cache)
  let secret: Buffer
  try {
    secret = agree(id.privateKey, shareKey)
  } catch (cause) {
    throw new CiphertextIntegrityError('header', 'invalid X25519 stanza (low-order or invalid share)', {
      cause
    })
  }
  const wrapKey = hkdfSha256(secret, Buffer.concat([shareRaw, id.publicRaw]), X25519_LABEL)
  secret.fill(0)
  return open(wrapKey, s.body)
}

export interface DecryptResult {
  plaintext: Buffer
  /** Index into the identities given to decryptAge of the one that opened the file. */
  identityIndex: number
}

export interface DecryptOptions {
  /** Most recipient stanzas a header may carry; more is refused while parsing. Default: no limit. */
  maxStanzas?: number
  /**
   * Most unwrap attempts (X25519 stanzas × identities held): a header that could need more is
   * refused before the first key agreement. Default: no limit.
   */
  maxUnwrapAttempts?: number
  /**
   * Unwrap attempts between two yields to the event loop (each is one X25519 agreement, tens of
   * microseconds), so no decryption holds the loop for long. Default: {@link UNWRAPS_PER_TURN}.
   */
  unwrapsPerTurn?: number
}

/** Unwrap attempts between two yields to the event loop: a few milliseconds of work. */
export const UNWRAPS_PER_TURN = 32

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Decrypts an age file (binary or armored, detected) with the first identity that opens it.
 * Throws CiphertextIntegrityError (reason armor/header/hmac/payload) or DecryptionDeniedError; never returns
 * partial plaintext.
 */
export async function decryptAge(
  ciphertext: Uint8Array,
  identities: readonly X25519Identity[],
  options: DecryptOptions = {}
): Promise<DecryptResult> {
  const binary = looksArmored(ciphertext) ? decodeArmor(ciphertext) : ciphertext
  const header = parseHeader(binary, { maxStanzas: options.maxStanzas })
  if (header.stanzas.some((s) => s.type === 'scrypt') && header.stanzas.length !== 1) {
    throw new CiphertextIntegrityError('header', 'an scrypt stanza must be the only stanza')
  }
  const x25519 = header.stanzas.filter((s) => s.type === 'X25519')
  const maxAttempts = options.maxUnwrapAttempts ?? Number.POSITIVE_INFINITY
  if (x25519.length * identities.length > maxAttempts) {
    throw new CiphertextIntegrityError(
      'header',
      `opening it could take more than ${maxAttempts} unwrap attempts (recipient stanzas × identities held)`
    )
  }
  const perTurn = Math.max(1, options.unwrapsPerTurn ?? UNWRAPS_PER_TURN)
  const cache: ShareCache = new Map()
  let fileKey: Buffer | undefined
  let identityIndex = -1
  let attempts = 0
  for (let i = 0; i < identities.length && fileKey === undefined; i++) {
    const id = identities[i] as X25519Identity
    for (const s of x25519) {
      if (attempts > 0 && attempts % perTurn === 0) await nextTurn()
      attempts++
      fileKey = unwrapX25519(s, id, cache)
      if (fileKey !== undefined) break
    }
    identityIndex = i
  }
  if (fileKey === undefined) {
    throw new DecryptionDeniedError(
      'no held identity opens this ciphertext (it was not encrypted for our keys)'
    )
  }
  const mac = hmacSha256(hkdfSha256(fileKey, EMPTY, HEADER_LABEL), header.headerNoMac)
  if (!macEqual(mac, header.mac)) {
    fileKey.fill(0)
    throw new CiphertextIntegrityError('hmac', 'the header MAC does not verify (the header was modified)')
  }
  const nonceEnd = header.payloadOffset + NONCE_SIZE
  if (binary.length < nonceEnd) {
    fileKey.fill(0)
    throw new CiphertextIntegrityError('header', 'the payload nonce is missing or truncated')
  }
  const streamKey = hkdfSha256(fileKey, binary.subarray(header.payloadOffset, nonceEnd), PAYLOAD_LABEL)
  fileKey.fill(0)
  return { plaintext: decryptStream(streamKey, binary.subarray(nonceEnd)), identityIndex }
}

/**
 * Checks the header of an age file as a record must carry it, without any key agreement: binary
 * (not armored), at most `maxStanzas` stanzas (refused while parsing), each an X25519 stanza of
 * the form this implementation writes (one 32-byte share, a 32-byte wrapped file key). scrypt
 * (passphrase) and other stanza types are refused: records are only ever encrypted to X25519
 * recipients. Returns the number of stanzas; throws CiphertextIntegrityError('header').
 */
export function checkRecipientStanzas(ciphertext: Uint8Array, options: { maxStanzas: number }): number {
  const header = parseHeader(ciphertext, { maxStanzas: options.maxStanzas })
  if (header.stanzas.length === 0) throw new CiphertextIntegrityError('header', 'no recipient stanza')
  for (const s of header.stanzas) {
    if (s.type !== 'X25519') throw new CiphertextIntegrityError('header', 'a stanza is not an X25519 stanza')
    const share = s.args.length === 1 ? decodeRawBase64(s.args[0] ?? '') : undefined
    if (share === undefined || share.length !== 32 || s.body.length !== FILE_KEY_SIZE + 16) {
      throw new CiphertextIntegrityError('header', 'invalid X25519 stanza')
    }
  }
  return header.stanzas.length
}

export { decodeArmor, encodeArmor, looksArmored }
