import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalDHT, type LocalDHT, type NodeSigner } from '@chorus/dht'
import { afterAll, beforeAll } from 'vitest'
import { ENVELOPE_FORMAT, sha256, signEnvelope, type UnsignedEnvelope } from '../src/envelope.js'
import { chorusRecordRules } from '../src/records.js'

export { makeSigner } from '../src/testing.js'

export function tempDir(prefix = 'chorus-storage-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A started local DHT with the CHORUS record rules in a temporary directory, for the enclosing
 * `describe`: started in a `beforeAll` registered here (so it runs before the caller's own),
 * closed and removed in an `afterAll`.
 */
export function useLocalDHT(): { readonly dht: LocalDHT; readonly dir: string } {
  const tmp = tempDir()
  let dht: LocalDHT | undefined
  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await dht.start()
  })
  afterAll(async () => {
    await dht?.close()
    tmp.remove()
  })
  return {
    get dht(): LocalDHT {
      if (dht === undefined) throw new Error('useLocalDHT: used outside the tests of its describe')
      return dht
    },
    dir: tmp.dir
  }
}

export const BASE = 'ucxl://agent001:backend_developer@project123:task456/decision'

/**
 * An age header of one well-formed X25519 stanza (opened by no key) followed by `payload`: what
 * the record check accepts as a ciphertext, for format tests only.
 */
export function ageShaped(payload: Uint8Array | string): Uint8Array {
  const b64 = (n: number, fill: number) => Buffer.alloc(n, fill).toString('base64').replace(/=+$/, '')
  const header = `age-encryption.org/v1\n-> X25519 ${b64(32, 9)}\n${b64(32, 7)}\n--- ${b64(32, 1)}\n`
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload)
  return new Uint8Array(Buffer.concat([Buffer.from(header, 'latin1'), body]))
}

/** An envelope signed by `signer` over an age-shaped (not openable) ciphertext: for format tests only. */
export async function sampleEnvelope(
  signer: NodeSigner,
  over: Partial<UnsignedEnvelope> = {},
  ciphertext = ageShaped('not really age, just bytes for the format tests')
) {
  const unsigned: UnsignedEnvelope = {
    format: ENVELOPE_FORMAT,
    address: BASE,
    version: 1,
    metadata: {
      creatorRole: 'backend_developer',
      encryptedFor: ['backend_developer', 'senior_architect', 'devops_engineer'],
      contentType: 'decision',
      timestamp: 1_700_000_000_000,
      size: 10,
      ciphertextHash: sha256(ciphertext)
    },
    ciphertext,
    author: signer.publicKey,
    certificate: null,
    previous: null,
    ...over
  }
  return signEnvelope(unsigned, signer)
}
