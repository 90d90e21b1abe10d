import { execFileSync } from 'node:child_process'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  type RoleKey
} from '../src/index.js'

/** The predefined roles, one key each, and a node (keyring + AgeCrypto) per role it plays. */
export function makeCluster() {
  const roles = createRoleRegistry()
  const keys = new Map<string, RoleKey>(roles.list().map((r) => [r.name, generateRoleKey(r.name)]))
  const node = (...playing: string[]) => {
    const keyring = createKeyring()
    for (const [role, key] of keys) keyring.addRecipient(role, key.recipient)
    for (const role of playing) keyring.addIdentity(keys.get(role) as RoleKey)
    return { keyring, crypto: createAgeCrypto({ roles, keyring }) }
  }
  return { roles, keys, node }
}

export function countStanzas(ciphertext: Uint8Array): number {
  const header = Buffer.from(ciphertext).toString('latin1').split('\n---')[0] ?? ''
  return header.split('\n').filter((l) => l.startsWith('-> X25519 ')).length
}

/**
 * Finds the `age` command-line tool, installing the Debian package when running as root with
 * apt-get (as dev.sh does). Throws, so the compatibility tests fail rather than skip, when it
 * cannot be found.
 */
export function requireAgeTool(): string {
  const find = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v age'], { encoding: 'utf8' }).trim()
    } catch {
      return ''
    }
  }
  let path = find()
  if (path === '' && process.getuid?.() === 0) {
    try {
      execFileSync(
        'sh',
        ['-c', 'apt-get install -y -qq age || (apt-get update -qq && apt-get install -y -qq age)'],
        {
          stdio: 'ignore',
          timeout: 240_000
        }
      )
    } catch {
      // fall through to the error below
    }
    path = find()
  }
  if (path === '') {
    throw new Error(
      'the `age` command-line tool is required for the compatibility tests (apt-get install age)'
    )
  }
  return path
}
