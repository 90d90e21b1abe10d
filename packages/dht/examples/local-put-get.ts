import assert from 'node:assert/strict'
import { createLocalDHT, NotFoundError } from '@chorus/dht'

// The DHT contract in one process (in memory here; give `dataDir` to persist in SQLite).
const dht = createLocalDHT()
const enc = new TextEncoder()

const put = await dht.putValue('/CHORUS/example/greeting', enc.encode('hello'))
assert.deepEqual(put, { key: '/CHORUS/example/greeting', acks: [], storedLocally: true })
assert.equal(new TextDecoder().decode(await dht.getValue('/CHORUS/example/greeting')), 'hello')

// A key that holds nothing: NotFoundError (from @chorus/common) with the dht code.
await assert.rejects(dht.getValue('/CHORUS/example/missing'), (err) => {
  assert.ok(NotFoundError.isInstance(err))
  assert.equal(err.code, 'DHT_NOT_FOUND')
  return true
})

await dht.close()
console.log('ok')
