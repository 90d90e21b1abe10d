// Three real nodes on 127.0.0.1: one stores a record, the replication manager copies it to the
// other two, and every node reports it healthy. Then everything stops.
import assert from 'node:assert/strict'
import { startNetwork } from '@chorus/dht/testing'
import { createReplicationManager, type PinnedEvent } from '@chorus/replication'

// the namespace rules every node runs (storage's real envelope validator in the app)
const validate = (_key: Uint8Array, value: Uint8Array): void => {
  if (value.byteLength > 1024) throw new Error('too large')
}
const select = (_key: Uint8Array, values: Uint8Array[]): number =>
  values[1]!.byteLength > values[0]!.byteLength ? 1 : 0

const network = await startNetwork({
  nodes: 3,
  records: { validators: { CHORUS: validate }, selectors: { CHORUS: select } },
  readyTimeout: 10_000
})
const managers = network.nodes.map((dht) =>
  createReplicationManager({ dht, messaging: dht, validate, select }, { replicationFactor: 3 })
)
try {
  await Promise.all(managers.map((m) => m.start()))
  const [author, ...others] = managers
  const key = '/CHORUS/example/hello'
  const value = new TextEncoder().encode('hello')

  // each other node pins the value when the author pushes it
  const pinned = others.map(
    (m) =>
      new Promise<PinnedEvent>((resolve) =>
        m.addEventListener('pinned', (e) => {
          if (e.detail.key === key) resolve(e.detail)
        })
      )
  )
  await author!.addContent(key, value.byteLength, 5, { value })
  const events = await Promise.race([
    Promise.all(pinned),
    new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error('not replicated in 10 s')), 10_000).unref()
    })
  ])
  assert.ok(events.every((e) => e.from === network.nodes[0]!.peerId))

  // every node holds it; the author knows both copies it made
  for (const m of managers) assert.deepEqual(m.getPinnedValue(key), value)
  const status = await author!.getReplicationStatus(key)
  assert.equal(status.health, 'healthy')
  assert.equal(status.actualReplicas, 3)
  assert.equal(author!.getMetrics().successfulReplications, 2)
} finally {
  await Promise.all(managers.map((m) => m.stop()))
  await network.stop()
}
