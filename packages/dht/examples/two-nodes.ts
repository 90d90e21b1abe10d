import assert from 'node:assert/strict'
import { createLibP2PDHT } from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing' // production: storage's chorusRecordRules()

// Two nodes on 127.0.0.1 (ephemeral ports, in memory); b joins the network through a.
const init = {
  records: permissiveRecords,
  mode: 'server',
  autoBootstrap: false,
  discoveryInterval: 0
} as const
const a = await createLibP2PDHT(init)
const b = await createLibP2PDHT({ ...init, bootstrapPeers: a.multiaddrs })
try {
  await b.bootstrap()
  assert.ok(b.isBootstrapped())

  // a put reports the peers that really stored the value
  const { acks } = await b.putValue('/CHORUS/example/key', new TextEncoder().encode('hello'))
  assert.deepEqual(acks, [a.peerId])
  assert.equal(new TextDecoder().decode(await a.getValue('/CHORUS/example/key')), 'hello')

  // roles are provider records; the details come from the peer itself
  await b.announceRole('backend_developer')
  const found = await a.findPeersByRole('backend_developer')
  assert.deepEqual(
    found.map((p) => [p.id, p.role]),
    [[b.peerId, 'backend_developer']]
  )
} finally {
  await b.close()
  await a.close()
}
console.log('ok')
