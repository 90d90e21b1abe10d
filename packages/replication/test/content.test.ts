/**
 * `addContent` (LocalContent) after a store whose direct push already placed the value: with the
 * target number of holders it neither spreads nor announces at once (the push did both: the
 * holders noted themselves and this node as providers), and both jobs come due on their
 * schedule; with fewer holders, or none named, both run at once as before. Holders count only
 * when they are DHT servers, this node included: a write placed on clients behind NAT is spread.
 */
import { silentLogger } from '@chorus/common'
import { createLocalDHT, type LocalDHT } from '@chorus/dht'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { testRecord, testRecords, validateTestRecord } from '../bench/cluster.ts'
import { replicationDefaults } from '../src/config.js'
import { LocalContent } from '../src/content.js'
import { ContentEntries } from '../src/entries.js'
import type { JobKind } from '../src/scheduler.js'
import { RecordValues } from '../src/values.js'

const SELF = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
const A = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const B = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const config = { ...replicationDefaults, replicationFactor: 3 }

let dht: LocalDHT
let entries: ContentEntries
let content: LocalContent
let queued: Array<[JobKind, string]>
let touched: Array<[string, string]>
/** The peers that are not DHT servers (clients behind NAT). */
let clients: Set<string>

beforeEach(() => {
  dht = createLocalDHT({ records: testRecords, peerId: SELF })
  entries = new ContentEntries({ dataDir: undefined, config })
  entries.open()
  queued = []
  touched = []
  clients = new Set()
  content = new LocalContent(
    {
      entries,
      dht,
      values: new RecordValues({ dht, validate: validateTestRecord }, config),
      emitPinned: () => {},
      emitUnpinned: () => {},
      enqueue: (kind, entry) => queued.push([kind, entry.key]),
      touchProvider: (key, peer) => touched.push([key, peer]),
      peerId: SELF,
      isServer: (peer) => !clients.has(peer),
      healthOf: (actual) => entries.healthOf(actual),
      log: silentLogger
    },
    config
  )
})

afterEach(async () => {
  entries.close()
  await dht.close()
})

describe('addContent after a direct push', () => {
  it('with the target number of holders: no spread, no announcement now; both due later; healthy', async () => {
    const before = Date.now()
    await content.add('/CHORUS/placed', 5, 1, { value: testRecord('placed'), holders: [A, B, A] })
    expect(queued).toEqual([])
    expect(touched).toEqual([
      ['/CHORUS/placed', A],
      ['/CHORUS/placed', B]
    ])
    const e = entries.get('/CHORUS/placed')
    expect(e).toMatchObject({
      pinned: true,
      origin: 'local',
      fresh: false,
      lastActual: 3,
      lastHealth: 'healthy'
    })
    expect(e?.nextProvideAt).toBeGreaterThan(before)
    expect(e?.nextRepairAt).toBeGreaterThan(before)
    expect(e?.nextProvideAt).toBeLessThanOrEqual(Date.now() + config.reprovideInterval)
  })

  it('with fewer holders than the target, or none named: spread and announce at once', async () => {
    await content.add('/CHORUS/short', 5, 1, { value: testRecord('short'), holders: [A] })
    await content.add('/CHORUS/plain', 5, 1, { value: testRecord('plain') })
    expect(queued).toEqual([
      ['provide', '/CHORUS/short'],
      ['repair', '/CHORUS/short'],
      ['provide', '/CHORUS/plain'],
      ['repair', '/CHORUS/plain']
    ])
    expect(touched).toEqual([])
    expect(entries.get('/CHORUS/short')).toMatchObject({ fresh: true })
  })

  it('holders that are DHT clients, or this node as one, do not make the target: spread at once', async () => {
    // a write inside a NATed site: the two peers that acknowledged it are clients
    clients = new Set([A, B])
    await content.add('/CHORUS/nat-peers', 5, 1, { value: testRecord('nat-peers'), holders: [A, B] })
    // this node is the client: its own copy is no reachable replica either
    clients = new Set([SELF])
    await content.add('/CHORUS/nat-self', 5, 1, { value: testRecord('nat-self'), holders: [A, B] })
    expect(queued).toEqual([
      ['provide', '/CHORUS/nat-peers'],
      ['repair', '/CHORUS/nat-peers'],
      ['provide', '/CHORUS/nat-self'],
      ['repair', '/CHORUS/nat-self']
    ])
    expect(entries.get('/CHORUS/nat-peers')).toMatchObject({ fresh: true })
    expect(entries.get('/CHORUS/nat-self')).toMatchObject({ fresh: true })
  })
})
