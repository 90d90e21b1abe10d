import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { writeFileAtomic } from '@chorus/common'
import { formatIdentity, parseIdentity } from './age/x25519.js'
import { KeyFileError, KeyFormatError } from './errors.js'
import { checkRoleName, identityOf, type KeyStatus, type RoleKey, roleKeyFromParsedIdentity } from './keys.js'

// Identity files are standard age identity files (what `age-keygen` writes, so `age -i file` works):
// `#` comment lines and one `AGE-SECRET-KEY-1…` line per key. Our metadata rides in comments:
//
//   # created: 2026-11-21T05:30:00.000Z
//   # public key: age1…
//   # role: backend_developer
//   # status: current
//   AGE-SECRET-KEY-1…
//
// One file per role (`<role>.key`), written 0600 in a 0700 directory; files that group or others
// can read are refused.

export const IDENTITY_FILE_SUFFIX = '.key'

export interface IdentityFileEntry {
  key: RoleKey
  status: KeyStatus
}

/** Refuses a key file that group or others may access (POSIX only). */
export async function checkKeyFileMode(path: string): Promise<void> {
  if (process.platform === 'win32') return
  let mode: number
  try {
    mode = (await stat(path)).mode
  } catch (cause) {
    throw new KeyFileError(
      path,
      `cannot read the key file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause }
    )
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0')
    throw new KeyFileError(
      path,
      `secret key file is accessible by group or others (mode ${octal}); refusing to use it: run chmod 600 on it`
    )
  }
}

/** Formats identity-file text for keys that carry identities. */
export function formatIdentityFile(entries: readonly IdentityFileEntry[]): string {
  const lines = ['# CHORUS role keys: age identity file, keep secret (mode 0600)', '']
  for (const { key, status } of entries) {
    const identity = identityOf(key)
    if (identity === undefined) throw new KeyFormatError(`key ${key.id} has no identity to save`)
    lines.push(
      `# created: ${key.createdAt.toISOString()}`,
      `# public key: ${key.recipient}`,
      `# role: ${key.role}`,
      `# status: ${status}`,
      formatIdentity(identity),
      ''
    )
  }
  return lines.join('\n')
}

/** Parses identity-file text. `defaultRole` applies to keys without a `# role:` comment. */
export function parseIdentityFile(text: string, path: string, defaultRole?: string): IdentityFileEntry[] {
  const entries: IdentityFileEntry[] = []
  let meta: { created?: Date; publicKey?: string; role?: string; status?: KeyStatus } = {}
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, i) => {
    const line = raw.trim()
    const lineNo = i + 1
    if (line === '') return
    if (line.startsWith('#')) {
      const m = /^#\s*([a-z ]+):\s*(.*)$/i.exec(line)
      if (m === null) return
      const field = (m[1] ?? '').toLowerCase()
      const value = (m[2] ?? '').trim()
      if (field === 'created') {
        const d = new Date(value)
        if (Number.isNaN(d.getTime())) throw new KeyFileError(path, 'bad "# created:" date', { line: lineNo })
        meta.created = d
      } else if (field === 'public key') meta.publicKey = value
      else if (field === 'role') meta.role = value
      else if (field === 'status') {
        if (value !== 'current' && value !== 'retired') {
          throw new KeyFileError(path, 'bad "# status:" (current or retired)', { line: lineNo })
        }
        meta.status = value
      }
      return
    }
    if (!line.startsWith('AGE-SECRET-KEY-')) {
      // Never echo the line: it may be (part of) a secret.
      throw new KeyFileError(path, 'not an age identity line (expected AGE-SECRET-KEY-1… or a # comment)', {
        line: lineNo
      })
    }
    const role = meta.role ?? defaultRole
    if (role === undefined) throw new KeyFileError(path, 'no "# role:" for this key', { line: lineNo })
    let key: RoleKey
    try {
      checkRoleName(role)
      key = roleKeyFromParsedIdentity(role, parseIdentity(line), meta.created ?? new Date(0))
    } catch (cause) {
      throw new KeyFileError(path, (cause as Error).message, { line: lineNo, cause })
    }
    if (meta.publicKey !== undefined && meta.publicKey !== key.recipient) {
      throw new KeyFileError(path, 'the "# public key:" comment does not match the identity', {
        line: lineNo
      })
    }
    entries.push({ key, status: meta.status ?? 'current' })
    meta = {}
  })
  return entries
}

/** Reads one identity file, refusing unsafe permissions. The role defaults to the file name. */
export async function readIdentityFile(
  path: string,
  options: { role?: string } = {}
): Promise<IdentityFileEntry[]> {
  await checkKeyFileMode(path)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new KeyFileError(path, 'cannot read the key file', { cause })
  }
  const stem = basename(path).replace(/\.[^.]*$/, '')
  return parseIdentityFile(
    text,
    path,
    options.role ?? (/^[A-Za-z0-9_-]{1,64}$/.test(stem) ? stem : undefined)
  )
}

/** Writes an identity file atomically with mode 0600. */
export async function writeIdentityFile(path: string, entries: readonly IdentityFileEntry[]): Promise<void> {
  const text = formatIdentityFile(entries)
  try {
    await writeFileAtomic(path, text, 0o600)
  } catch (cause) {
    throw new KeyFileError(
      path,
      `cannot write the key file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause
      }
    )
  }
}

export async function ensureKeyDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (cause) {
    throw new KeyFileError(dir, 'cannot create the key directory', { cause })
  }
}

export async function listIdentityFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => f.endsWith(IDENTITY_FILE_SUFFIX))
      .sort()
      .map((f) => join(dir, f))
  } catch (cause) {
    throw new KeyFileError(dir, 'cannot list the key directory', { cause })
  }
}
