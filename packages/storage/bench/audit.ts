/**
 * Benchmark: what the signed audit log costs on the hot path. One storage on a one-node libp2p
 * network (its node key signs, as an agent's does) answers cache-hit retrieves of one record, the
 * cheapest operation there is, so the audit append is the largest part of each. Each retrieve is
 * started on its own event-loop turn (as HTTP requests arrive), `--concurrency` at a time. Figures:
 * retrieves per second with audit logging off and on, how many checkpoint signatures the log
 * wrote per entry, and one Ed25519 signature of the node key (what signing every entry would add
 * to each).
 *   node bench/audit.ts [--ops 5000] [--concurrency 1]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startNetwork } from '@chorus/dht/testing'
import { chorusRecordRules } from '../dist/index.js'
import { startStorage, teamKeys } from '../dist/testing.js'

const { values } = parseArgs({
  options: { ops: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '1' } }
})
const OPS = Number(values.ops)
const CONCURRENCY = Number(values.concurrency)
const ADDRESS = 'ucxl://agent001:backend_developer@bench:audit/*^/decision'

const dir = mkdtempSync(join(tmpdir(), 'chorus-audit-bench-'))
const net = await startNetwork({ nodes: 1, records: chorusRecordRules() })
const node = net.nodes[0]!
const keys = teamKeys()
const turn = () => new Promise((r) => setImmediate(r))

async function run(auditLogging: boolean) {
  const storage = await startStorage({
    dht: node,
    signer: node.signer,
    keys,
    plays: ['backend_developer'],
    init: { dataDir: join(dir, String(auditLogging)), nodeId: node.peerId, writeQuorum: 0, auditLogging }
  })
  await storage.storeUCXLContent(ADDRESS, 'a decision', 'backend_developer', 'text/plain')
  for (let i = 0; i < 500; i++) await storage.retrieveUCXLContent(ADDRESS) // warm-up
  const t0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < OPS) {
        next++
        await turn()
        await storage.retrieveUCXLContent(ADDRESS)
      }
    })
  )
  const ms = performance.now() - t0
  const verified = await storage.verifyAuditLog()
  await storage.stop()
  let entries = 0
  let checkpoints = 0
  if (auditLogging) {
    for (const line of readFileSync(join(dir, 'true', 'audit.log'), 'utf8').split('\n')) {
      if (line === '') continue
      if (line.includes('"checkpoint"')) checkpoints++
      else entries++
    }
  }
  return {
    perSecond: Math.round((OPS / ms) * 1000),
    usPerOp: (ms * 1000) / OPS,
    entries,
    checkpoints,
    verified
  }
}

const off = await run(false)
const on = await run(true)
const message = new TextEncoder().encode(`chorus-audit-checkpoint/2\n1\n2\n${'0'.repeat(64)}`)
for (let i = 0; i < 200; i++) await node.signer.sign(message)
const s0 = performance.now()
for (let i = 0; i < 2000; i++) await node.signer.sign(message)
const signUs = ((performance.now() - s0) * 1000) / 2000

console.log(
  JSON.stringify(
    {
      ops: OPS,
      concurrency: CONCURRENCY,
      auditOff: { retrievesPerSecond: off.perSecond, usPerRetrieve: +off.usPerOp.toFixed(1) },
      auditOn: {
        retrievesPerSecond: on.perSecond,
        usPerRetrieve: +on.usPerOp.toFixed(1),
        entries: on.entries,
        checkpoints: on.checkpoints,
        verified: on.verified.ok
      },
      nodeKeySignatureUs: +signUs.toFixed(1)
    },
    null,
    2
  )
)
await net.stop()
rmSync(dir, { recursive: true, force: true })
