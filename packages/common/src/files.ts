import { randomBytes } from 'node:crypto'
import { chmod, open, rename, rm } from 'node:fs/promises'

/**
 * Writes a file atomically: a temporary file beside it (created exclusively with `mode`), synced
 * to disk, then renamed over `path`, so a crash leaves the old file or the new one, never half of
 * one. For secrets (`mode` 0600, the default). On failure the temporary file is removed and the
 * file system's error is rethrown for the caller to wrap.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const fh = await open(tmp, 'wx', mode)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await chmod(tmp, mode)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
