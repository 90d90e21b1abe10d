// A HybridDHT over a stand-in network primary (a LocalDHT that can be stopped, as a network can
// go away) and a persistent local fallback: an outage, fail-over, a manual switch, fail-back and
// the journal replayed to the primary, with no write lost.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalDHT, type DHT } from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing' // production: the storage package's rules
import { createHybridDHT } from '@chorus/hybrid'

const dataDir = mkdtempSync(join(tmpdir(), 'hybrid-example-'))
const enc = new TextEncoder()
const dec = new TextDecoder()

const network = createLocalDHT({ records: permissiveRecords, peerId: 'network' })
const fallback = createLocalDHT({ dataDir: join(dataDir, 'local'), records: permissiveRecords })
// The default probe needs a peer to answer a lookup; this stand-in passes while it answers at all.
const probe = async (primary: DHT, { signal }: { signal: AbortSignal }) => {
  await primary.getValues('/CHORUS/probe', { signal })
}
const dht = createHybridDHT(
  { primary: network, fallback },
  { dataDir: join(dataDir, 'journal'), probe, probeInterval: 50, failureThreshold: 2, recoveryThreshold: 2 }
)
const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20))
  assert.ok(check(), what)
}

try {
  // Network up: a put reaches it (and the local copy).
  const up = await dht.putValue('/CHORUS/ucxl/a', enc.encode('one'))
  assert.equal(up.storedLocally, true)
  assert.equal(dec.decode(await network.getValue('/CHORUS/ucxl/a')), 'one')

  // The network goes away: puts still succeed, locally, and wait in the journal.
  await network.stop()
  const down = await dht.putValue('/CHORUS/ucxl/b', enc.encode('two'))
  assert.deepEqual(down.acks, [])
  await dht.putValue('/CHORUS/ucxl/c', enc.encode('three'))
  assert.equal(dht.pendingWrites(), 2)
  // Failing probes fail over: reads are served by the local backend.
  await until('fail-over', () => dht.getActiveBackend() === 'mock')
  assert.equal(dht.getBackendHealth().real.status, 'failed')
  assert.equal(dec.decode(await dht.getValue('/CHORUS/ucxl/b')), 'two')

  // The network returns: passing probes fail back and the journal replays to it.
  await network.start()
  await until('fail-back and replay', () => dht.getActiveBackend() === 'real' && dht.pendingWrites() === 0)
  assert.equal(dec.decode(await network.getValue('/CHORUS/ucxl/c')), 'three')

  // A manual switch pins the local backend: writes wait in the journal, the network sees nothing.
  dht.switchBackend('mock')
  await dht.putValue('/CHORUS/ucxl/d', enc.encode('four'))
  assert.equal(dht.pendingWrites(), 1)
  await assert.rejects(network.getValue('/CHORUS/ucxl/d'), { name: 'NotFoundError' })
  // Back to automatic: the switch replays the journal to the healthy network.
  dht.switchBackend('auto')
  await until('replay after the switch', () => dht.pendingWrites() === 0)
  assert.equal(dec.decode(await network.getValue('/CHORUS/ucxl/d')), 'four')

  const m = dht.getMetrics()
  assert.equal(m.failovers, 1)
  assert.equal(m.failbacks, 1)
  assert.equal(m.journal.replayed, 3)
  console.log({ failovers: m.failovers, failbacks: m.failbacks, journal: m.journal })
} finally {
  // The hybrid first (it journals what is in flight), then the backends it never owns.
  await dht.close()
  await network.close()
  await fallback.close()
  rmSync(dataDir, { recursive: true, force: true })
}
