import assert from 'node:assert/strict'
import {
  createAgeCrypto,
  createKeyring,
  DecryptionDeniedError,
  generateRoleKey,
  keyIdOf
} from '@chorus/crypto'
import {
  combineTeamRootShares,
  createManifest,
  createTeamMember,
  createTeamPolicy,
  generateTeamRoot,
  InvalidSharesError,
  issueCertificate,
  parseTeamId,
  predefinedTeamRoles,
  signManifest,
  splitTeamRoot,
  teamIdOf,
  WriteDeniedError,
  withTeamRoot
} from '@chorus/team'

// 1. A team: its root key is split into 5 shares, any 3 of which sign; the whole root is then wiped.
const root = generateTeamRoot()
const team = teamIdOf(root.publicKey) // what every node is configured with
const shares = await splitTeamRoot(root, { shares: 5, threshold: 3 })
root.privateKey.fill(0)
await assert.rejects(combineTeamRootShares(shares.slice(0, 2)), (err) => InvalidSharesError.isInstance(err))

// One age key per role; the manifest publishes their public halves (recipients).
const roleKeys = new Map(Object.keys(predefinedTeamRoles()).map((role) => [role, generateRoleKey(role)]))
const recipients = Object.fromEntries(
  [...roleKeys].map(([role, key]) => [
    role,
    [
      {
        keyId: keyIdOf(key.recipient),
        recipient: key.recipient,
        status: 'current' as const,
        createdAt: Date.now()
      }
    ]
  ])
)
// Three share holders sign the manifest (the predefined roles, their recipients, no issuers).
const manifest = await withTeamRoot([shares[0]!, shares[2]!, shares[4]!], async (signer) =>
  signManifest(createManifest({ team, recipients }), signer)
)

// 2. Every node runs the policy: the team's root key and the signed manifest.
const policy = createTeamPolicy({ root: parseTeamId(team), manifest })

// 3. Admitting a member: three share holders sign its certificate, which binds its agent id, its
// roles, its libp2p node key (here a fresh Ed25519 key stands for it) and its own age recipient.
const node = generateTeamRoot()
const certificate = await withTeamRoot([shares[1]!, shares[3]!, shares[4]!], async (signer) =>
  issueCertificate(
    {
      team,
      agent: 'agent001',
      roles: ['backend_developer', 'observer'],
      nodeKey: node.publicKey,
      recipient: generateRoleKey('agent001').recipient,
      serial: 1
    },
    signer
  )
)
const member = createTeamMember({ policy, certificate }) // the PeerAdmission the DHT takes
const admitted = member.admit(node.publicKey, certificate)
assert.deepEqual(admitted.roles, ['backend_developer', 'observer'])

// 4. The write rule, as every validator runs it on a record's address, creator role and author key.
const record = {
  address: 'ucxl://agent001:backend_developer@project1:task1/decision',
  creatorRole: 'backend_developer',
  author: node.publicKey,
  certificate
}
assert.equal(policy.authorizeWrite(record).agent, 'agent001')
const readOnly = {
  ...record,
  address: 'ucxl://agent001:observer@project1:task1/decision',
  creatorRole: 'observer'
}
assert.throws(
  () => policy.authorizeWrite(readOnly),
  (err) => WriteDeniedError.isInstance(err) && err.reason === 'read-only'
)
assert.throws(
  () => policy.authorizeWrite({ ...record, author: generateTeamRoot().publicKey }),
  (err) => WriteDeniedError.isInstance(err) && err.reason === 'wrong-node-key'
)

// 5. Who reads backend content is the manifest's decision: backend, senior architect, devops.
const roles = policy.roleRegistry()
for (const role of ['backend_developer', 'senior_architect', 'devops_engineer']) {
  assert.ok(roles.canDecrypt(role, 'backend_developer'))
}
const writerRing = createKeyring()
for (const role of roles.list())
  for (const r of policy.recipients(role.name)) writerRing.addRecipient(role.name, r)
const ciphertext = await createAgeCrypto({ roles, keyring: writerRing }).encryptUCXLContent(
  new TextEncoder().encode('use sqlite'),
  'backend_developer'
)
const opsRing = createKeyring()
opsRing.addIdentity(roleKeys.get('devops_engineer')!)
const opened = await createAgeCrypto({ roles, keyring: opsRing }).decryptWithRole(ciphertext)
assert.equal(new TextDecoder().decode(opened.plaintext), 'use sqlite')
const qaRing = createKeyring()
qaRing.addIdentity(roleKeys.get('qa_engineer')!)
await assert.rejects(createAgeCrypto({ roles, keyring: qaRing }).decryptWithRole(ciphertext), (err) =>
  DecryptionDeniedError.isInstance(err)
)
