import { createHash } from 'node:crypto'
import { inflateSync } from 'node:zlib'
import * as vectors from 'cctv-age'
import { describe, expect, it } from 'vitest'
import { decryptAge } from '../src/age/age.js'
import { parseIdentity, type X25519Identity } from '../src/age/x25519.js'
import {
  CiphertextIntegrityError,
  CryptoError,
  DecryptionDeniedError,
  KeyFormatError
} from '../src/errors.js'

// Every decryption vector of C2SP/CCTV's age suite (npm `cctv-age`), through our native decrypt.
// Each vector is a text header (expect, payload hash, identities, …), a blank line, then the age
// file, possibly zlib-compressed. Vectors whose identities are all X25519 must give exactly the
// expected outcome; vectors for kinds we do not support (scrypt passphrases, post-quantum hybrid
// identities) must fail with one of our typed errors, never crash or succeed.

interface Vector {
  name: string
  expect: string
  payload?: string
  identities: string[]
  passphrases: string[]
  file: Uint8Array
}

function parseVector(name: string, data: Uint8Array): Vector {
  const buf = Buffer.from(data)
  const split = buf.indexOf('\n\n')
  const head = buf.subarray(0, split).toString('utf8').split('\n')
  const kv = new Map<string, string[]>()
  for (const line of head) {
    const i = line.indexOf(': ')
    const key = line.slice(0, i)
    kv.set(key, [...(kv.get(key) ?? []), line.slice(i + 2)])
  }
  let file: Uint8Array = buf.subarray(split + 2)
  if (kv.get('compressed')?.[0] === 'zlib') file = inflateSync(file)
  return {
    name,
    expect: kv.get('expect')?.[0] ?? '',
    payload: kv.get('payload')?.[0],
    identities: kv.get('identity') ?? [],
    passphrases: kv.get('passphrase') ?? [],
    file
  }
}

const all = Object.entries(vectors as Record<string, Uint8Array>).map(([n, d]) => parseVector(n, d))
const isX25519 = (id: string) => id.startsWith('AGE-SECRET-KEY-1')
const supported = all.filter((v) => v.passphrases.length === 0 && v.identities.every(isX25519))
const unsupported = all.filter((v) => !supported.includes(v))

const REASON: Record<string, string> = {
  'HMAC failure': 'hmac',
  'header failure': 'header',
  'payload failure': 'payload',
  'armor failure': 'armor'
}

async function attempt(v: Vector, ids: X25519Identity[]): Promise<{ plaintext?: Buffer; error?: unknown }> {
  try {
    return { plaintext: (await decryptAge(v.file, ids)).plaintext }
  } catch (error) {
    return { error }
  }
}

describe('cctv-age decryption vectors', () => {
  it('the suite is all there', () => {
    expect(all.length).toBeGreaterThanOrEqual(140)
    expect(supported.length).toBeGreaterThanOrEqual(98)
  })

  it.each(supported.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const { plaintext, error } = await attempt(
      v,
      v.identities.map((id) => parseIdentity(id))
    )
    if (v.expect === 'success') {
      expect(error).toBeUndefined()
      expect(
        createHash('sha256')
          .update(plaintext as Buffer)
          .digest('hex')
      ).toBe(v.payload)
    } else if (v.expect === 'no match') {
      expect(error).toBeInstanceOf(DecryptionDeniedError)
    } else {
      // Never partial plaintext: a failure releases nothing.
      expect(plaintext).toBeUndefined()
      expect(error).toBeInstanceOf(CiphertextIntegrityError)
      expect((error as CiphertextIntegrityError).reason).toBe(REASON[v.expect])
    }
  })

  it.each(unsupported.map((v) => [v.name, v] as const))(
    '%s (unsupported kind: typed failure)',
    async (_n, v) => {
      const ids: X25519Identity[] = []
      for (const id of v.identities) {
        if (isX25519(id)) ids.push(parseIdentity(id))
        else expect(() => parseIdentity(id)).toThrow(KeyFormatError)
      }
      const { plaintext, error } = await attempt(v, ids)
      expect(plaintext).toBeUndefined()
      expect(error).toBeInstanceOf(CryptoError)
      if (v.expect === 'success' || v.expect === 'no match')
        expect(error).toBeInstanceOf(DecryptionDeniedError)
      if (v.expect === 'armor failure') expect((error as CiphertextIntegrityError).reason).toBe('armor')
    }
  )
})
