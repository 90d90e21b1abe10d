import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * Create a directory (and parents) readable only by the owner, and make it so when it already
 * existed with a looser mode (mkdir's mode applies only to what it creates).
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700)
}

/**
 * Refuses a file that users other than its owner can write: whoever can write a recipients,
 * roles, assignment or config file decides whom the agent encrypts for or which peers it trusts.
 * Returns an error message, or undefined when the file is fine.
 */
export function writableByOthers(path: string): string | undefined {
  if (!existsSync(path)) return undefined // the reader reports a missing file
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o022) === 0) return undefined
  return `${path} can be written by other users (mode ${mode.toString(8)}); run chmod go-w on it`
}

/** Write a file atomically (temp file + rename) with the given mode; secrets use 0600. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(tmp, data, { mode })
  chmodSync(tmp, mode)
  renameSync(tmp, path)
}

/** Read a secret file, refusing one that the group or others can read. */
export function readSecretFile(path: string): string {
  const st = statSync(path)
  if ((st.mode & 0o077) !== 0) {
    throw new Error(
      `${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`
    )
  }
  return readFileSync(path, 'utf8').trim()
}

export const TOKEN_FILE = 'api-token'
export const AGENT_FILE = 'agent.json'

/** The API bearer token of a data directory, generated (0600) on first use. */
export function ensureAPIToken(dataDir: string): string {
  const path = join(dataDir, TOKEN_FILE)
  if (existsSync(path)) return readSecretFile(path)
  const token = randomBytes(32).toString('base64url')
  writeFileAtomic(path, `${token}\n`, 0o600)
  return token
}

/** What a running agent writes to `<dataDir>/agent.json` so that the CLI can find it. */
export interface AgentInfo {
  url: string
  pid: number
  peerId: string
  role: string
  agentId: string
  multiaddrs: string[]
  startedAt: string
}

export function readAgentInfo(dataDir: string): AgentInfo | undefined {
  const path = join(dataDir, AGENT_FILE)
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as AgentInfo
  } catch {
    return undefined
  }
}
