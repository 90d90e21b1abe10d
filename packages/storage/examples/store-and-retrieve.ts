import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalDHT } from '@chorus/dht'
import {
  AccessDeniedError,
  ContentNotFoundError,
  chorusRecordRules,
  createEncryptedStorage,
  STORAGE_ERROR_CODES
} from '@chorus/storage'
import { makeSigner, nodeCrypto, teamKeys } from '@chorus/storage/testing'

// One process, no peers: a local DHT (persistent, here in a temporary directory) running the
// CHORUS record rules, shared by three nodes that play different roles.
const dir = mkdtempSync(join(tmpdir(), 'chorus-storage-example-'))
const dht = createLocalDHT({ dataDir: join(dir, 'dht'), records: chorusRecordRules() })
await dht.start()

// One age key per role; each node holds the identities of the roles it plays.
const keys = teamKeys()
const node = async (name: string, plays: string[]) => {
  const { roles, keyring, crypto } = nodeCrypto(keys, plays)
  const storage = createEncryptedStorage(
    { dht, crypto, roles, keyring, signer: makeSigner() },
    // a local DHT acknowledges nothing remotely: no write quorum
    { dataDir: join(dir, name), nodeId: name, writeQuorum: 0 }
  )
  await storage.start()
  return storage
}
const backend = await node('backend', ['backend_developer'])
const architect = await node('architect', ['senior_architect'])
const frontend = await node('frontend', ['frontend_developer'])

try {
  const address = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'
  const v1 = await backend.storeUCXLContent(
    address,
    'Decision: use pattern Y',
    'backend_developer',
    'text/plain'
  )
  const v2 = await backend.storeUCXLContent(
    address,
    'Decision: use pattern Z',
    'backend_developer',
    'text/plain'
  )
  assert.equal(v2.version, 2)
  assert.equal(v2.previous, v1.envelopeHash) // versions are hash-chained

  // The senior architect may read what a backend developer writes: latest, then version 1.
  const latest = await architect.retrieveUCXLContent(address)
  assert.equal(new TextDecoder().decode(latest.content), 'Decision: use pattern Z')
  assert.equal(latest.metadata.version, 2)
  const first = await architect.retrieveUCXLContent(address.replace('*^', '*~1'))
  assert.equal(new TextDecoder().decode(first.content), 'Decision: use pattern Y')

  // A frontend developer may not; a missing address is not found. Errors carry stable codes.
  await assert.rejects(frontend.retrieveUCXLContent(address), (err) => AccessDeniedError.isInstance(err))
  await assert.rejects(
    backend.retrieveUCXLContent(address.replace('/decision', '/missing')),
    (err) => ContentNotFoundError.isInstance(err) && err.code === STORAGE_ERROR_CODES.NOT_FOUND
  )

  // The local index answers list and search without the network.
  const mine = await backend.searchContent({ role: 'backend_developer', project: 'project123' })
  assert.deepEqual(
    mine.map((m) => m.version),
    [2]
  )
  assert.equal((await backend.verifyAuditLog()).ok, true)
} finally {
  for (const s of [backend, architect, frontend]) await s.stop()
  await dht.close()
  rmSync(dir, { recursive: true, force: true })
}
console.log('ok')
