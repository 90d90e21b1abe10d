import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  getPredefinedRoles
} from '@chorus/crypto'
import { startNetwork } from '@chorus/dht/testing'
import { chorusRecordRules, createEncryptedStorage } from './dist/index.js'

const net = await startNetwork({ nodes: 10, records: chorusRecordRules() })
const keys = new Map(Object.keys(getPredefinedRoles()).map((r) => [r, generateRoleKey(r)]))
const dir = mkdtempSync(join(tmpdir(), 'probe-'))
const mk = async (i: number, role: string) => {
  const roles = createRoleRegistry()
  const keyring = createKeyring()
  for (const [r, k] of keys) r === role ? keyring.addIdentity(k) : keyring.addRecipient(r, k.recipient)
  const crypto = createAgeCrypto({ roles, keyring })
  const s = createEncryptedStorage(
    {
      dht: net.nodes[i]!,
      crypto,
      roles,
      keyring,
      signer: net.nodes[i]!.signer,
      logger: {
        debug: (o, m) => console.log('debug', m ?? o, typeof o === 'object' ? JSON.stringify(o) : ''),
        info() {},
        warn: (o, m) => console.log('warn', m, JSON.stringify(o)),
        error() {}
      }
    },
    { dataDir: join(dir, `n${i}`), nodeId: `n${i}` }
  )
  await s.start()
  return { s, crypto }
}
const all = await Promise.all(
  net.nodes.map((_, i) => mk(i, i === 0 ? 'backend_developer' : 'senior_architect'))
)
const w = all[0]!
let t = performance.now()
await w.crypto.encryptUCXLContent(new Uint8Array(1024), 'backend_developer')
console.log('encrypt', (performance.now() - t).toFixed(1))
t = performance.now()
await net.nodes[0]!.signer.sign(new Uint8Array(1500))
console.log('sign', (performance.now() - t).toFixed(1))
for (let i = 0; i < 6; i++) {
  t = performance.now()
  const r = await w.s.storeUCXLContent(
    `ucxl://a:backend_developer@p:t${i}/*^/x`,
    new Uint8Array(1024),
    'backend_developer',
    'decision'
  )
  console.log('store', (performance.now() - t).toFixed(1), 'acks', r.acks)
  t = performance.now()
  await new Promise((r) => setTimeout(r, 1500))
  t = performance.now()
  const g = await all[5]!.s.retrieveUCXLContent(`ucxl://a:backend_developer@p:t${i}/*^/x`)
  console.log('timing', performance.now() - t)
  console.log('retrieve', (performance.now() - t).toFixed(1), g.source)
}
await Promise.all(all.map((a) => a.s.stop()))
await net.stop()
