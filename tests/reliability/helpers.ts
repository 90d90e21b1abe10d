// Shared fixtures of the reliability suite: real keys, real crypto, real storage, temp dirs.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Keys, crypto, signers and started storages come from the storage package's testing export.
export { makeSigner, nodeCrypto, startStorage, teamKeys } from '@chorus/storage/testing'

export function tempDir(prefix = 'chorus-rel-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `check` until it returns true or `timeoutMs` passes; returns the time it took, or throws. */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  stepMs = 250
): Promise<number> {
  const start = Date.now()
  let last: unknown
  while (Date.now() - start < timeoutMs) {
    try {
      if (await check()) return Date.now() - start
    } catch (err) {
      last = err
    }
    await sleep(stepMs)
  }
  throw new Error(
    `${what}: not true after ${timeoutMs} ms${last != null ? ` (last error: ${String(last)})` : ''}`
  )
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b)
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
