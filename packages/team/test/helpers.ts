import { generateRoleKey } from '@chorus/crypto'
import { expect } from 'vitest'
import {
  type CertificateFields,
  createManifest,
  createTeamPolicy,
  generateTeamRoot,
  issueCertificate,
  type ManifestInit,
  rootSigner,
  signManifest,
  type TeamPolicy,
  type TeamRoot,
  type TeamSigner,
  teamIdOf
} from '../src/index.js'

/** The start of every test clock: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1)
export const DAY = 24 * 60 * 60 * 1000

/** A clock the test moves. */
export function testClock(start = T0): { now: () => number; set(t: number): void } {
  let t = start
  return {
    now: () => t,
    set: (v) => {
      t = v
    }
  }
}

/** A real age X25519 recipient. */
export function ageRecipient(): string {
  return generateRoleKey('member').recipient
}

/** A node key: the raw public key of a fresh Ed25519 key pair (as libp2p's Ed25519 peer keys are). */
export function nodeKey(): Uint8Array {
  return generateTeamRoot().publicKey
}

export interface TestTeam {
  root: TeamRoot
  signer: TeamSigner
  teamId: string
  /** A signed manifest of this team (version, issuers... as given). */
  manifest(init?: Omit<ManifestInit, 'team'>): Uint8Array
  policy(options?: { manifest?: Uint8Array; now?: () => number; certificateCacheSize?: number }): TeamPolicy
  /** A certificate signed by `signer` (the root by default) with test defaults. */
  certificate(fields?: Partial<CertificateFields>, signer?: TeamSigner): Uint8Array
}

export function makeTeam(): TestTeam {
  const root = generateTeamRoot()
  const signer = rootSigner(root)
  const teamId = teamIdOf(root.publicKey)
  const manifest = (init: Omit<ManifestInit, 'team'> = {}): Uint8Array =>
    signManifest(createManifest({ issuedAt: T0, ...init, team: teamId }), signer)
  return {
    root,
    signer,
    teamId,
    manifest,
    policy: (options = {}) =>
      createTeamPolicy({
        root: root.publicKey,
        manifest: options.manifest ?? manifest(),
        now: options.now ?? (() => T0 + 1000),
        ...(options.certificateCacheSize === undefined
          ? {}
          : { certificateCacheSize: options.certificateCacheSize })
      }),
    certificate: (fields = {}, by = signer) =>
      issueCertificate(
        {
          team: teamId,
          agent: 'agent001',
          roles: ['backend_developer'],
          nodeKey: nodeKey(),
          recipient: ageRecipient(),
          serial: 1,
          notBefore: T0,
          notAfter: T0 + 30 * DAY,
          ...fields
        },
        by
      )
  }
}

/** An error class with the ChorusError `isInstance`. */
type ErrorClass<E> = (abstract new (...args: never[]) => E) & { isInstance(value: unknown): boolean }

/** Asserts that `fn` throws an error of class `cls` (by isInstance) and returns it. */
export function thrown<E>(cls: ErrorClass<E>, fn: () => unknown): E {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(cls.isInstance(caught), `expected ${String(caught)} to be the right error`).toBe(true)
  return caught as E
}

/** As {@link thrown}, for promises. */
export async function rejected<E>(cls: ErrorClass<E>, p: Promise<unknown>): Promise<E> {
  let caught: unknown
  try {
    await p
  } catch (err) {
    caught = err
  }
  expect(cls.isInstance(caught), `expected ${String(caught)} to be the right error`).toBe(true)
  return caught as E
}

/** A copy of `bytes` with bit `bit` of byte `i` flipped. */
export function flipBit(bytes: Uint8Array, i: number, bit = 0): Uint8Array {
  // a copy even of a Buffer (whose slice() is a view: cborg encodes to Buffers on Node)
  const out = new Uint8Array(bytes)
  out[i] = (out[i] ?? 0) ^ (1 << bit)
  return out
}
