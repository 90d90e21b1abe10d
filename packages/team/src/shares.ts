/**
 * The root seed split into Shamir shares (k of n) with Privy's audited `shamir-secret-sharing`,
 * as text an operator can store or print:
 *
 *   chorus-team-share-v1:<team id>:<threshold>:<index>:<base64url of the 33-byte share>
 *
 * The library checks nothing about what it reconstructs (its README says so), so combining ends
 * with the check that matters: the recovered seed's public key must be the team id.
 */
import { bytesEqual } from '@chorus/common'
import { combine, split } from 'shamir-secret-sharing'
import { type TeamShareInit, teamShareDefaults } from './config.js'
import { KEY_BYTES, publicKeyOf } from './ed25519.js'
import { fromBase64url, toBase64url } from './encoding.js'
import { InvalidSharesError, invalidInput, SignerWipedError } from './errors.js'
import { checkKeyPair, parseTeamId, rootSigner, type TeamRoot, type TeamSigner, teamIdOf } from './root.js'

const SHARE_PREFIX = 'chorus-team-share-v1'
const SHARE_BYTES = KEY_BYTES + 1 // the library appends the x coordinate
const SHARE_RE = /^chorus-team-share-v1:([A-Za-z0-9_-]{43}):([0-9]{1,3}):([0-9]{1,3}):([A-Za-z0-9_-]{44})$/
const MAX_SHARES = 255
const MAX_SHARE_CHARS = 200

interface ParsedShare {
  team: string
  threshold: number
  index: number
  bytes: Uint8Array
}

/**
 * Splits the root seed into `shares` text shares, any `threshold` of which recover it.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) for a bad root, or counts outside
 *   `2 <= threshold <= shares <= 255`.
 */
export async function splitTeamRoot(root: TeamRoot, init: TeamShareInit = {}): Promise<string[]> {
  checkKeyPair(root)
  const n = init.shares ?? teamShareDefaults.shares
  const k = init.threshold ?? teamShareDefaults.threshold
  if (!Number.isSafeInteger(n) || n < 2 || n > MAX_SHARES)
    throw invalidInput('shares', 'must be an integer from 2 to 255')
  if (!Number.isSafeInteger(k) || k < 2 || k > n)
    throw invalidInput('threshold', 'must be an integer from 2 to shares')
  const team = teamIdOf(root.publicKey)
  // The library wants a plain Uint8Array (not a Buffer or a view); this copy is wiped below.
  const secret = Uint8Array.from(root.privateKey)
  try {
    const parts = await split(secret, n, k)
    return parts.map((part, i) => {
      const line = `${SHARE_PREFIX}:${team}:${k}:${i + 1}:${toBase64url(part)}`
      part.fill(0)
      return line
    })
  } finally {
    secret.fill(0)
  }
}

function parseShare(raw: unknown): ParsedShare {
  const m = typeof raw === 'string' && raw.length <= MAX_SHARE_CHARS ? SHARE_RE.exec(raw.trim()) : null
  const bytes = m === null ? null : fromBase64url(m[4] ?? '', SHARE_BYTES)
  const threshold = Number(m?.[2])
  const index = Number(m?.[3])
  if (
    m === null ||
    bytes === null ||
    threshold < 2 ||
    threshold > MAX_SHARES ||
    index < 1 ||
    index > MAX_SHARES ||
    bytes[KEY_BYTES] === 0
  ) {
    bytes?.fill(0)
    throw new InvalidSharesError('malformed')
  }
  return { team: m[1] ?? '', threshold, index, bytes }
}

/**
 * Recovers the team root from at least `threshold` of its text shares.
 * @throws InvalidSharesError: `malformed` text, `too-few` shares, `mixed-teams`,
 *   `mixed-thresholds`, a `duplicate`, or `wrong-key` when the combined seed's public key is not
 *   the team id (a corrupted or forged share).
 */
export async function combineTeamRootShares(shares: string[]): Promise<TeamRoot> {
  if (!Array.isArray(shares) || shares.length > MAX_SHARES) throw new InvalidSharesError('malformed')
  const parsed: ParsedShare[] = []
  try {
    for (const s of shares) parsed.push(parseShare(s))
    const first = parsed[0]
    if (first === undefined) throw new InvalidSharesError('too-few')
    if (parsed.some((p) => p.team !== first.team)) throw new InvalidSharesError('mixed-teams')
    if (parsed.some((p) => p.threshold !== first.threshold)) throw new InvalidSharesError('mixed-thresholds')
    const indexes = new Set(parsed.map((p) => p.index))
    const xs = new Set(parsed.map((p) => p.bytes[KEY_BYTES]))
    if (indexes.size !== parsed.length || xs.size !== parsed.length) throw new InvalidSharesError('duplicate')
    if (parsed.length < first.threshold) throw new InvalidSharesError('too-few')
    const seed = await combine(parsed.map((p) => p.bytes))
    const publicKey = parseTeamId(first.team)
    if (seed.byteLength !== KEY_BYTES || !bytesEqual(publicKeyOf(seed), publicKey)) {
      seed.fill(0)
      throw new InvalidSharesError('wrong-key')
    }
    return { publicKey, privateKey: seed }
  } finally {
    for (const p of parsed) p.bytes.fill(0)
  }
}

/**
 * Combines the shares in memory for one signing step: `fn` gets a signer of the root, and the
 * seed is wiped (zero-filled) when `fn` settles, whatever it does; the signer then refuses to sign.
 * @throws InvalidSharesError as {@link combineTeamRootShares}, and whatever `fn` throws.
 */
export async function withTeamRoot<T>(shares: string[], fn: (signer: TeamSigner) => Promise<T>): Promise<T> {
  const root = await combineTeamRootShares(shares)
  let wiped = false
  try {
    const inner = rootSigner(root)
    const signer: TeamSigner = Object.freeze({
      publicKey: inner.publicKey,
      sign(data: Uint8Array): Uint8Array {
        if (wiped) throw new SignerWipedError()
        return inner.sign(data)
      }
    })
    return await fn(signer)
  } finally {
    wiped = true
    root.privateKey.fill(0)
  }
}
