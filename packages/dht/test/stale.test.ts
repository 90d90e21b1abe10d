import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NoPeersAcknowledgedError, StaleRecordError } from '../src/errors.js'
import { refuseStaleRecords } from '../src/libp2p/stale.js'
import { inboundPeer } from '../src/reputation/context.js'
import { permissiveRecords, startNetwork, type TestNetwork } from '../src/testing/index.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('refuseStaleRecords', () => {
  const held = new Map<string, Uint8Array>()
  const rules = refuseStaleRecords(permissiveRecords, async (key) => held.get(key))
  const validate = rules.validators.CHORUS!
  const key = enc.encode('/CHORUS/unit/k')

  it('refuses, from a peer, a record the selector ranks below the held one; accepts newer and equal ones', async () => {
    held.set('/CHORUS/unit/k', enc.encode('b'))
    await inboundPeer.run('peer-x', async () => {
      await expect(validate(key, enc.encode('a'))).rejects.toBeInstanceOf(StaleRecordError)
      await expect(validate(key, enc.encode('c'))).resolves.toBeUndefined()
      await expect(validate(key, enc.encode('b'))).resolves.toBeUndefined()
    })
  })

  it('does not compare outside an inbound request (answers to own queries)', async () => {
    held.set('/CHORUS/unit/k', enc.encode('b'))
    await expect(validate(key, enc.encode('a'))).resolves.toBeUndefined()
  })

  it('an invalid record is still refused by the namespace validator first', async () => {
    await inboundPeer.run('peer-x', async () => {
      await expect(validate(key, new Uint8Array(1024 * 1024 + 1))).rejects.not.toBeInstanceOf(
        StaleRecordError
      )
    })
  })
})

for (const reputation of [true, false]) {
  describe(`kad-dht PUT_VALUE of an older record (reputation ${reputation ? 'on' : 'off'})`, () => {
    let net: TestNetwork

    beforeAll(async () => {
      net = await startNetwork({ nodes: 4, ...(reputation ? {} : { init: { reputation: false } }) })
    }, 90_000)

    afterAll(async () => {
      await net?.stop()
    }, 30_000)

    it('honest servers refuse it without penalising the sender, and accept a newer one', async () => {
      const key = '/CHORUS/stale/head'
      const a = net.nodes[1]!
      const b = net.nodes[2]!
      const sender = net.nodes[3]!
      const servers = net.nodes.filter((n) => n !== sender)
      for (const n of servers) await n.putValue(key, enc.encode('v2'), { localOnly: true })
      // the permissive selector prefers the larger value: 'v1' is older than 'v2'
      await expect(sender.putValue(key, enc.encode('v1'))).rejects.toBeInstanceOf(NoPeersAcknowledgedError)
      for (const n of servers) expect(dec.decode(await n.getValue(key, { localOnly: true }))).toBe('v2')
      if (reputation) {
        for (const n of servers) {
          expect(n.reputation!.score(sender.peerId)).toBe(0)
          expect(n.reputation!.stats().penalties['invalid-record'] ?? 0).toBe(0)
        }
      }
      // a newer record is taken
      const put = await sender.putValue(key, enc.encode('v3'))
      expect(put.acks.length).toBeGreaterThan(0)
      for (const n of servers.filter((s) => put.acks.includes(s.peerId)))
        expect(dec.decode(await n.getValue(key, { localOnly: true }))).toBe('v3')
      // readers still see older copies peers hold (no refusal on GET answers)
      await a.putValue('/CHORUS/stale/other', enc.encode('x1'), { localOnly: true })
      await b.putValue('/CHORUS/stale/other', enc.encode('x2'), { localOnly: true })
      const values = await sender.getValues('/CHORUS/stale/other')
      expect(values.map((v) => dec.decode(v.value)).sort()).toEqual(['x1', 'x2'])
    }, 60_000)
  })
}
