import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgeCrypto, createKeyring, createRoleRegistry, DecryptionDeniedError } from '@chorus/crypto'

const roles = createRoleRegistry() // the predefined roles (a roles file can add/override: loadRolesFile)

// Every node knows every role's public key (recipient); each holds the private keys of its roles.
const shared = createKeyring()
const privateKeys = new Map(roles.list().map((r) => [r.name, shared.rotate(r.name)]))

const writerRing = createKeyring()
for (const k of shared.exportRecipients()) writerRing.addRecipient(k.role, k.recipient)
writerRing.addIdentity(privateKeys.get('backend_developer')!)
const writer = createAgeCrypto({ roles, keyring: writerRing })

const ciphertext = await writer.encryptUCXLContent(
  new TextEncoder().encode('use sqlite'),
  'backend_developer'
)
assert.deepEqual(writer.decryptableRoles('backend_developer'), [
  'backend_developer',
  'senior_architect',
  'devops_engineer'
])

// devops_engineer may read backend_developer's content.
const opsRing = createKeyring()
opsRing.addIdentity(privateKeys.get('devops_engineer')!)
const ops = createAgeCrypto({ roles, keyring: opsRing })
const { plaintext, role } = await ops.decryptWithRole(ciphertext)
assert.equal(new TextDecoder().decode(plaintext), 'use sqlite')
assert.equal(role, 'devops_engineer')

// qa_engineer may not.
const qaRing = createKeyring()
qaRing.addIdentity(privateKeys.get('qa_engineer')!)
await assert.rejects(
  createAgeCrypto({ roles, keyring: qaRing }).decryptWithRole(ciphertext),
  (err) => DecryptionDeniedError.isInstance(err) && err.code === 'CRYPTO_ACCESS_DENIED'
)

// Key files are ordinary age identity files, mode 0600: `age -d -i <dir>/devops_engineer.key` opens the ciphertext.
const dir = await mkdtemp(join(tmpdir(), 'chorus-keys-'))
try {
  const [file] = await opsRing.saveIdentities(dir)
  assert.equal((await stat(file!)).mode & 0o777, 0o600)
} finally {
  await rm(dir, { recursive: true, force: true })
}
