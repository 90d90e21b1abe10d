// Network partition and heal on six real nodes: writes on both sides while split, then every
// record readable (exact content) from every node after the partition heals.
import { join } from 'node:path'
import type { LibP2PDHT } from '@chorus/dht'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { chorusRecordRules, type EncryptedStorage } from '@chorus/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, startStorage, teamKeys, tempDir, text } from './helpers.js'
import { blocklist, connected, heal, partition } from './net.js'
import { createReport, SOAK } from './report.js'

const report = createReport('partition')
const PER_SIDE = SOAK ? 40 : 8
const NODES = 6

describe('partition and heal (6 nodes on 127.0.0.1)', () => {
  const keys = teamKeys()
  const tmp = tempDir('chorus-rel-part-')
  let net: TestNetwork
  const stores: EncryptedStorage[] = []
  const lists = new Map<LibP2PDHT, Set<string>>()

  beforeAll(async () => {
    net = await startNetwork({
      nodes: NODES,
      records: chorusRecordRules(),
      init: { queryTimeout: 15_000 }
    })
    for (const [i, node] of net.nodes.entries()) {
      lists.set(node, blocklist(node))
      stores.push(
        await startStorage({
          dht: node,
          signer: node.signer,
          keys,
          plays: ['backend_developer', 'senior_architect'],
          init: {
            dataDir: join(tmp.dir, `n${i}`),
            nodeId: node.peerId,
            storeTimeout: 20_000,
            retrieveTimeout: 20_000
          }
        })
      )
    }
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.stop()))
    await net?.stop()
    tmp.remove()
    report.flush()
  }, 60_000)

  it('records written on both sides of a partition are readable everywhere after it heals', async () => {
    const A = net.nodes.slice(0, 3)
    const B = net.nodes.slice(3)
    await partition([A, B], lists)
    report.fault('network partition')
    // the split holds: no connection across, and a dial across is refused
    expect(A.some((a) => B.some((b) => connected(a, b)))).toBe(false)
    await expect(A[0]!.libp2p.dial(B[0]!.libp2p.peerId)).rejects.toThrow()

    const written: Array<{ address: string; content: string; writer: number }> = []
    for (let k = 0; k < PER_SIDE; k++) {
      for (const side of [0, 3]) {
        const writer = side + (k % 3)
        const address = `ucxl://agent${writer}:backend_developer@partition:side${side}/*^/record-${k}`
        const content = `written on node ${writer} during the partition, #${k}`
        const r = await stores[writer]!.storeUCXLContent(address, content, 'backend_developer', 'text/plain')
        // only the writer's own side can acknowledge
        expect(r.acks).toBeGreaterThanOrEqual(1)
        written.push({ address, content, writer })
      }
    }
    report.written(written.length)
    // while split, the other side cannot read what it never received
    const crossing = written.find((w) => w.writer < 3)!
    await expect(
      stores[4]!.retrieveUCXLContent(crossing.address, { signal: AbortSignal.timeout(20_000) })
    ).rejects.toThrow()

    const healedAt = Date.now()
    await heal(net.nodes, lists)
    const recovery = await eventually(
      'every record readable from every node after the heal',
      async () => {
        const results = await Promise.all(
          written.flatMap((w) =>
            stores.map(async (s) => {
              const got = await s.retrieveUCXLContent(w.address, { signal: AbortSignal.timeout(15_000) })
              return text(got.content) === w.content
            })
          )
        )
        return results.every(Boolean)
      },
      90_000,
      500
    )
    report.recovery('partition heal until every record readable on every node', Date.now() - healedAt)
    report.read(written.length * NODES)

    // exact content and metadata everywhere; nothing lost, nothing corrupted
    let lost = 0
    let corrupted = 0
    for (const w of written) {
      for (const s of stores) {
        const got = await s.retrieveUCXLContent(w.address).catch(() => undefined)
        if (got == null) lost++
        else if (text(got.content) !== w.content || got.metadata.version !== 1) corrupted++
      }
    }
    report.lost(lost)
    report.corrupted(corrupted)
    expect({ lost, corrupted }).toEqual({ lost: 0, corrupted: 0 })
    report.note(
      `partition: ${written.length} writes split over two sides, readable everywhere ${recovery} ms after heal`
    )
    report.check('partition + heal: every record readable from every node')
  })
})
