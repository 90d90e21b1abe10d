// kill -9 of node processes during a stream of writes: after restart on the same data directory,
// no torn or half-written record, and every acknowledged write readable (exact content) everywhere.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createKeyring, generateRoleKey, getPredefinedRoles } from '@chorus/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, sleep, tempDir } from './helpers.js'
import { freePort, type NodeProc, startNodeProc } from './proc.js'
import { createReport, SOAK } from './report.js'

const report = createReport('crash')
const CYCLES = SOAK ? 10 : 3

describe('kill -9 during writes (4 node processes)', () => {
  const tmp = tempDir('chorus-rel-crash-')
  const keysDir = join(tmp.dir, 'keys')
  const procs: Array<NodeProc | undefined> = []
  const ports: number[] = []
  let bootstrap = ''

  const start = async (i: number): Promise<NodeProc> => {
    const p = await startNodeProc(
      {
        DATA_DIR: join(tmp.dir, `n${i}`),
        KEYS_DIR: keysDir,
        LISTEN: `/ip4/127.0.0.1/tcp/${ports[i]}`,
        BOOTSTRAP: i === 0 ? '' : bootstrap
      },
      join(tmp.dir, `n${i}.log`)
    )
    procs[i] = p
    return p
  }

  beforeAll(async () => {
    mkdirSync(keysDir, { recursive: true })
    const ring = createKeyring()
    for (const role of Object.keys(getPredefinedRoles())) ring.addIdentity(generateRoleKey(role))
    await ring.saveIdentities(keysDir)
    for (let i = 0; i < 4; i++) ports.push(await freePort())
    const n0 = await start(0)
    bootstrap = `/ip4/127.0.0.1/tcp/${ports[0]}/p2p/${n0.peerId}`
    await Promise.all([1, 2, 3].map((i) => start(i)))
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => p?.stop()))
    tmp.remove()
    report.flush()
  }, 60_000)

  it('every acknowledged write survives kill -9 of writer and replicas; nothing torn', async () => {
    const acked = new Map<string, string>() // address -> content
    const unacked = new Map<string, string>()
    const versioned = 'ucxl://crash:backend_developer@crash:chain/*^/head'
    const versions = new Map<number, string>() // acknowledged versions of `versioned`
    let seq = 0
    let longest = 0

    // writers: n1 streams new records (3 at a time), n2 streams versions of one address
    const streamWrites = (i: number, stop: { v: boolean }) =>
      Promise.all(
        [0, 1, 2].map(async () => {
          while (!stop.v) {
            const k = seq++
            const address = `ucxl://crash:backend_developer@crash:stream/*^/n${i}-rec-${k}`
            const content = `record ${k} from node ${i} ${'x'.repeat(k % 7 === 0 ? 20_000 : 100)}`
            unacked.set(address, content)
            try {
              await procs[i]!.call('store', { address, content }, 30_000)
              acked.set(address, content)
              unacked.delete(address)
            } catch {
              if (procs[i]!.child.exitCode != null || procs[i]!.child.signalCode != null) return
            }
          }
        })
      )
    const streamVersions = async (i: number, stop: { v: boolean }) => {
      while (!stop.v) {
        const content = `chain entry ${seq++}`
        try {
          const r = await procs[i]!.call<{ version: number }>(
            'store',
            { address: versioned, content },
            30_000
          )
          versions.set(r.version, content)
        } catch {
          if (procs[i]!.child.signalCode != null) return
          await sleep(200)
        }
      }
    }

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const stop = { v: false }
      const before = acked.size
      const writing = Promise.all([streamWrites(1, stop), streamVersions(2, stop)])
      // let writes flow, then kill the stream's writer and a replica in the middle of it
      await eventually(
        'writes acknowledged before the crash',
        () => acked.size >= before + (SOAK ? 40 : 12),
        60_000,
        100
      )
      const victims = cycle % 2 === 0 ? [1, 3] : [2, 1]
      const killedAt = Date.now()
      await Promise.all(victims.map((v) => procs[v]!.kill9()))
      report.fault('kill -9 of a node process', victims.length)
      stop.v = true
      await writing
      // restart on the same data directories and ports
      await Promise.all(victims.map((v) => start(v)))
      await Promise.all(
        [1, 2, 3].map((i) => procs[i]!.call('connect', { peers: [bootstrap] }).catch(() => undefined))
      )
      const ms = await eventually(
        'acknowledged writes readable after restart',
        async () => {
          const checks = await Promise.all(
            [...acked].map(async ([address, content]) => {
              const r = await procs[victims[0]!]!.call<{ content: string }>('retrieve', { address })
              return r.content === content
            })
          )
          return checks.every(Boolean)
        },
        90_000,
        500
      )
      longest = Math.max(longest, Date.now() - killedAt)
      report.note(
        `crash cycle ${cycle + 1}: killed nodes ${victims.join(', ')}, ${acked.size} acknowledged writes readable ${ms} ms after restart`
      )
    }
    report.recovery('kill -9 until every acknowledged write readable again', longest)
    report.written(acked.size + versions.size)

    // every acknowledged write, from every node, exact content
    let lost = 0
    let corrupted = 0
    for (const [address, content] of acked) {
      for (const p of procs) {
        const r = await p!.call<{ content: string }>('retrieve', { address }).catch(() => undefined)
        report.read()
        if (r == null) lost++
        else if (r.content !== content) corrupted++
      }
    }
    // the version chain: every acknowledged version readable at *~N, the head at least the newest acked
    const newest = Math.max(...versions.keys())
    for (const [n, content] of versions) {
      const r = await procs[0]!
        .call<{ content: string; version: number }>('retrieve', {
          address: versioned.replace('*^', `*~${n}`)
        })
        .catch(() => undefined)
      report.read()
      if (r == null) lost++
      else if (r.content !== content || r.version !== n) corrupted++
    }
    const head = await procs[3]!.call<{ version: number }>('retrieve', { address: versioned })
    expect(head.version).toBeGreaterThanOrEqual(newest)
    // writes cut off by the kill: absent or whole, never torn
    for (const [address, content] of unacked) {
      const r = await procs[0]!
        .call<{ content: string }>('retrieve', { address }, 30_000)
        .catch(() => undefined)
      if (r != null && r.content !== content) corrupted++
    }
    // every node's audit log still verifies (a torn last line would show here)
    for (const p of procs) {
      const audit = await p!.call<{ ok: boolean; reason?: string }>('audit')
      expect(audit, 'audit log after kill -9').toMatchObject({ ok: true })
    }
    report.lost(lost)
    report.corrupted(corrupted)
    report.note(
      `crash: ${acked.size} acknowledged records and ${versions.size} versions, ${unacked.size} writes cut off by kills`
    )
    expect({ lost, corrupted }).toEqual({ lost: 0, corrupted: 0 })
    report.check('kill -9: every acknowledged write readable on every node; none torn; audit logs verify')
  })
})
