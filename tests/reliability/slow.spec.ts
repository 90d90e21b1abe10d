// A slow peer and a peer that stops answering in the middle of queries: reads and writes from
// other nodes still succeed, within their configured timeouts, by routing around them.
import { join } from 'node:path'
import type { LibP2PDHT } from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { chorusRecordRules, type EncryptedStorage, versionKey } from '@chorus/storage'
import { addressDigest, parseAddress } from '@chorus/ucxl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep, startStorage, teamKeys, tempDir, text } from './helpers.js'
import { createReport, SOAK } from './report.js'

const report = createReport('slow-peer')
const RECORDS = SOAK ? 30 : 8
const QUERY_TIMEOUT = 8_000
const OP_TIMEOUT = 15_000

type Mode = 'normal' | 'slow' | 'frozen'

/** Replaces the node's kad protocol handler: `slow` answers after 1.5 s, `frozen` never answers. */
function misbehave(node: LibP2PDHT): { set(mode: Mode): void } {
  const protocol = '/CHORUS/kad/1.0.0'
  const registrar = (
    node.libp2p as unknown as {
      components: {
        registrar: {
          getHandler(p: string): { handler: (...args: unknown[]) => void | Promise<void>; options: object }
        }
      }
    }
  ).components.registrar
  const original = registrar.getHandler(protocol)
  let mode: Mode = 'normal'
  void node.libp2p.handle(
    protocol,
    async (stream, connection) => {
      if (mode === 'frozen') return // accept the stream, read nothing, answer nothing
      if (mode === 'slow') await sleep(1500)
      return original.handler(stream, connection)
    },
    { ...original.options, force: true }
  )
  return {
    set(m) {
      mode = m
    }
  }
}

describe('slow and unresponsive peers (6 nodes)', () => {
  const keys = teamKeys()
  const tmp = tempDir('chorus-rel-slow-')
  let net: TestNetwork
  let writer: EncryptedStorage
  let reader: EncryptedStorage
  const stores: EncryptedStorage[] = []

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 6,
      records: chorusRecordRules(),
      init: { queryTimeout: QUERY_TIMEOUT }
    })
    const init = (i: number) => ({
      dataDir: join(tmp.dir, `n${i}`),
      nodeId: net.nodes[i]!.peerId,
      writeQuorum: 2,
      storeTimeout: OP_TIMEOUT,
      retrieveTimeout: OP_TIMEOUT,
      readRepair: false
    })
    const plays = ['backend_developer', 'senior_architect']
    // every node runs storage, as every agent does (it serves the direct record protocol)
    for (const [i, node] of net.nodes.entries()) {
      stores.push(await startStorage({ dht: node, signer: node.signer, keys, plays, init: init(i) }))
    }
    writer = stores[0]!
    reader = stores[5]!
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.stop()))
    await net?.stop()
    tmp.remove()
    report.flush()
  }, 60_000)

  it('reads and writes finish within their timeouts and succeed around a slow and a frozen peer', async () => {
    const records: Array<{ address: string; content: string }> = []
    for (let k = 0; k < RECORDS; k++) {
      const address = `ucxl://agent0:backend_developer@slow:t/*^/before-${k}`
      const content = `stored before the faults #${k}`
      await writer.storeUCXLContent(address, content, 'backend_developer', 'text/plain')
      records.push({ address, content })
    }
    report.written(RECORDS)

    const slow = misbehave(net.nodes[2]!)
    const frozen = misbehave(net.nodes[3]!)
    slow.set('slow')
    report.fault('slow peer (1.5 s per DHT request)')
    let longest = 0
    const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
      const t0 = Date.now()
      const out = await f()
      const ms = Date.now() - t0
      longest = Math.max(longest, ms)
      // the contract under test: an operation ends within its own timeout (plus scheduling slack)
      expect(ms, `${what} took ${ms} ms`).toBeLessThan(OP_TIMEOUT + 5_000)
      return out
    }

    // the frozen peer stops answering in the middle of the reads
    const reads = records.map((r, i) =>
      timed(`read ${i}`, async () => {
        if (i === 1) {
          frozen.set('frozen')
          report.fault('peer stops answering mid-query')
        }
        const got = await reader.retrieveUCXLContent(r.address, { consistency: 'network' })
        return text(got.content) === r.content
      })
    )
    const ok = await Promise.all(reads)
    expect(ok.every(Boolean)).toBe(true)
    report.read(records.length)

    // writes from the reader while both misbehave: acknowledged by the healthy peers
    for (let k = 0; k < Math.ceil(RECORDS / 2); k++) {
      const address = `ucxl://agent5:backend_developer@slow:t/*^/during-${k}`
      const content = `stored while a peer is frozen #${k}`
      const r = await timed(`write ${k}`, () =>
        reader.storeUCXLContent(address, content, 'backend_developer', 'text/plain')
      )
      expect(r.acks).toBeGreaterThanOrEqual(1)
      const back = await timed(`read-back ${k}`, () => writer.retrieveUCXLContent(address))
      expect(text(back.content)).toBe(content)
      report.written()
      report.read()
    }
    // plain DHT reads from a third node: the closest-peer query routes around both
    const n4 = net.nodes[4]!
    const t0 = Date.now()
    const found = await n4.getClosestPeers(net.nodes[0]!.peerId)
    expect(found.length).toBeGreaterThan(0)
    expect(Date.now() - t0).toBeLessThan(QUERY_TIMEOUT + 5_000)
    // a plain kad-dht put (no direct push) with the frozen peer in the network: record what happens
    const plainKey = versionKey(addressDigest(parseAddress(records[0]!.address)), 1)
    const plainValue = await net.nodes[0]!.getValue(plainKey, { localOnly: true })
    const t1 = Date.now()
    const plain = await n4.putValue(plainKey, plainValue, { minAcks: 1 }).then(
      (r) => `acknowledged by ${r.acks.length} peer(s)`,
      (e: Error) => `${e.name} (${(e as { code?: string }).code ?? ''})`
    )
    report.note(`plain DHT put with a frozen peer: ${plain} after ${Date.now() - t1} ms`)
    report.recovery('longest operation with a slow and a frozen peer', longest)
    report.note(
      `slow peer: longest read/write ${longest} ms (operation timeout ${OP_TIMEOUT} ms, query timeout ${QUERY_TIMEOUT} ms)`
    )
    report.check('slow + frozen peer: reads and writes succeed within their timeouts')
    slow.set('normal')
    frozen.set('normal')
  })
})
