/**
 * The team root in a file, for a root kept offline whole (rather than split into shares):
 *
 *   # CHORUS team root: secret, keep offline (mode 0600)
 *   chorus-team-root-v1:<team id>:<base64url of the 32-byte seed>
 *
 * Written atomically with mode 0600; read only when no other user may read or write it.
 */
import { open } from 'node:fs/promises'
import { bytesEqual, writeFileAtomic } from '@chorus/common'
import { KEY_BYTES, publicKeyOf } from './ed25519.js'
import { fromBase64url, toBase64url } from './encoding.js'
import { TeamRootFileError } from './errors.js'
import { checkKeyPair, parseTeamId, type TeamRoot, teamIdOf } from './root.js'

const LINE_RE = /^chorus-team-root-v1:([A-Za-z0-9_-]{43}):([A-Za-z0-9_-]{43})$/
const MAX_FILE_BYTES = 4096

function errno(cause: unknown): string {
  return (cause as NodeJS.ErrnoException)?.code ?? 'error'
}

/**
 * Writes the team root to `path` (replacing it atomically), mode 0600.
 * @throws InvalidInputError (`TEAM_INVALID_INPUT`) for a bad key pair;
 *   TeamRootFileError (`TEAM_ROOT_FILE`) when the file cannot be written.
 */
export async function saveTeamRoot(path: string, root: TeamRoot): Promise<void> {
  checkKeyPair(root)
  const body = Buffer.from(
    `# CHORUS team root: secret, keep offline (mode 0600)\nchorus-team-root-v1:${teamIdOf(root.publicKey)}:${toBase64url(root.privateKey)}\n`
  )
  try {
    await writeFileAtomic(path, body, 0o600)
  } catch (cause) {
    throw new TeamRootFileError(path, `cannot write the team root file (${errno(cause)})`, { cause })
  } finally {
    body.fill(0)
  }
}

/**
 * Reads the team root from `path` and checks that its seed belongs to the team id it names.
 * @throws TeamRootFileError (`TEAM_ROOT_FILE`) when the file cannot be read, group or others may
 *   access it, or it is not a team root file (its content is never echoed).
 */
export async function loadTeamRoot(path: string): Promise<TeamRoot> {
  let body: Buffer
  try {
    const fh = await open(path, 'r')
    try {
      // The mode of the file we opened, not of whatever the path names a moment later.
      const stat = await fh.stat()
      if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        const octal = (stat.mode & 0o777).toString(8).padStart(4, '0')
        throw new TeamRootFileError(
          path,
          `other users may access the team root file (mode ${octal}); refusing it: run chmod 600 on it`
        )
      }
      if (!stat.isFile() || stat.size > MAX_FILE_BYTES)
        throw new TeamRootFileError(path, 'not a team root file')
      body = await fh.readFile()
    } finally {
      await fh.close()
    }
  } catch (cause) {
    if (TeamRootFileError.isInstance(cause)) throw cause
    throw new TeamRootFileError(path, `cannot read the team root file (${errno(cause)})`, { cause })
  }
  try {
    return parseRootFile(body.toString('utf8'), path)
  } finally {
    body.fill(0)
  }
}

function parseRootFile(text: string, path: string): TeamRoot {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
  const m = lines.length === 1 ? LINE_RE.exec((lines[0] ?? '').trim()) : null
  const seed = m === null ? null : fromBase64url(m[2] ?? '', KEY_BYTES)
  if (m === null || seed === null) throw new TeamRootFileError(path, 'not a team root file')
  const publicKey = parseTeamId(m[1] ?? '')
  if (!bytesEqual(publicKeyOf(seed), publicKey)) {
    seed.fill(0)
    throw new TeamRootFileError(path, 'the seed in the team root file is not the key of the team it names')
  }
  return { publicKey, privateKey: seed }
}
