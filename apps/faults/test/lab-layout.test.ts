import { describe, expect, it } from 'vitest'
import {
  type FaultRunReport,
  generateSchedule,
  LAB_CI_SCHEDULE,
  labLayout,
  natNodes,
  RELAY_CHAIN,
  readContent,
  relayCutRules,
  relayNodesOf,
  summarizeRuns,
  writeContent
} from '../src/index.js'

describe('lab layout', () => {
  it('puts the larger half on the public site (at least 2) and the rest behind NAT (at least 1)', () => {
    expect(labLayout(3)).toEqual([
      { name: 'office', nat: false, nodes: [0, 1] },
      { name: 'home', nat: true, nodes: [2] }
    ])
    expect(labLayout(5).map((s) => s.nodes)).toEqual([
      [0, 1, 2],
      [3, 4]
    ])
    expect(natNodes(labLayout(7))).toEqual([4, 5, 6])
    for (let n = 3; n <= 20; n++) {
      const [pub, nat] = labLayout(n)
      expect(pub!.nodes.length).toBeGreaterThanOrEqual(2)
      expect(nat!.nodes.length).toBeGreaterThanOrEqual(1)
      expect([...pub!.nodes, ...nat!.nodes]).toEqual(Array.from({ length: n }, (_, i) => i))
    }
    expect(() => labLayout(2)).toThrow(RangeError)
  })
})

describe('relay cut', () => {
  it('resets TCP and drops the rest, both directions, in its own chain', () => {
    const rules = relayCutRules('10.77.1.11')
    expect(rules).toHaveLength(4)
    for (const r of rules) expect(r.slice(0, 2)).toEqual(['-A', RELAY_CHAIN])
    expect(rules.map((r) => `${r[2]} ${r.at(-1)}`)).toEqual([
      '-d tcp-reset',
      '-d DROP',
      '-s tcp-reset',
      '-s DROP'
    ])
    expect(rules.every((r) => r.includes('10.77.1.11'))).toBe(true)
    expect(() => relayCutRules('10.77.1.11 -j ACCEPT')).toThrow(RangeError)
  })

  it('maps a status’s relay peer ids to nodes', () => {
    const ids = new Map([
      [0, 'QmA'],
      [1, 'QmB'],
      [2, 'QmC']
    ])
    expect(relayNodesOf(['QmB'], ids)).toEqual([1])
    expect(relayNodesOf(['QmX'], ids)).toEqual([])
    expect(relayNodesOf(['QmC', 'QmA'], ids)).toEqual([0, 2])
  })
})

describe('schedule with relay nodes', () => {
  it('relay faults hit only the given nodes; every other fault is drawn as without them', () => {
    for (let seed = 0; seed < 100; seed++) {
      const init = { ...LAB_CI_SCHEDULE, seed, nodes: 5, durationMs: 60_000 }
      const plain = generateSchedule(init)
      const lab = generateSchedule({ ...init, relayNodes: [3, 4] })
      expect(lab.faults.map((f) => f.kind)).toEqual(plain.faults.map((f) => f.kind))
      for (const [i, f] of lab.faults.entries()) {
        if (f.kind === 'relay') expect([3, 4]).toContain(f.node)
        else expect(f).toEqual(plain.faults[i])
      }
    }
    expect(() => generateSchedule({ seed: 1, nodes: 3, durationMs: 1000, relayNodes: [3] })).toThrow(
      RangeError
    )
  })

  it('the lab CI preset draws relay faults and no disk wipe', () => {
    const kinds = new Set<string>()
    for (let seed = 0; seed < 30; seed++)
      for (const f of generateSchedule({ ...LAB_CI_SCHEDULE, seed, nodes: 5, durationMs: 40_000 }).faults)
        kinds.add(f.kind)
    expect(kinds.has('relay')).toBe(true)
    expect(kinds.has('wipe')).toBe(false)
  })
})

describe('endpoint transport', () => {
  it('carries the request and the token, and reads the answer', async () => {
    const seen: string[] = []
    const ep = {
      url: 'http://n0.lab:7700',
      token: 't0k',
      request: async (req: { method: string; path: string; headers: Record<string, string> }) => {
        seen.push(`${req.method} ${req.path} ${req.headers.authorization}`)
        return { status: 404, body: '{"error":{"code":"UCXL-404-NOT_FOUND"}}' }
      }
    }
    expect(await readContent(ep, 'ucxl://n0:r@p:t/*^/x', 1_000)).toEqual({ type: 'ok', digest: null })
    expect(seen).toEqual([`GET /v1/content?address=${encodeURIComponent('ucxl://n0:r@p:t/*^/x')} Bearer t0k`])
  })

  it('a transport that never answers: a write is unknown (info), a read failed, both after the timeout', async () => {
    const ep = { url: 'http://n0.lab:7700', token: 't', request: () => new Promise<never>(() => {}) }
    expect(await writeContent(ep, 'ucxl://n0:r@p:t/*^/x', 'v', 100)).toEqual({
      type: 'info',
      error: 'timeout'
    })
    expect(await readContent(ep, 'ucxl://n0:r@p:t/*^/x', 100)).toEqual({ type: 'fail', error: 'timeout' })
  })

  it('a refused connection is a failed write (it never reached the agent)', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    const ep = { url: 'http://n0.lab:7700', token: 't', request: () => Promise.reject(refused) }
    expect(await writeContent(ep, 'ucxl://n0:r@p:t/*^/x', 'v', 1_000)).toEqual({
      type: 'fail',
      error: 'connection refused'
    })
  })
})

describe('report by target', () => {
  it('counts runs and faults (relay included) per target', () => {
    const run = (target: string, faults: FaultRunReport['faults'], skipped: FaultRunReport['skipped']) =>
      ({
        target,
        seed: 1,
        mode: 'ci',
        nodes: 4,
        durationMs: 30_000,
        operations: { 'write ok': 3 },
        finalReads: 1,
        faults,
        skipped,
        violations: { 'lost-write': 0 },
        recoveryMs: 1_000,
        longestRestartMs: 10,
        valid: true
      }) as unknown as FaultRunReport
    const s = summarizeRuns([
      run('loopback', { kill: 2 }, { relay: 1 }),
      run('loopback', { partition: 1 }, {}),
      run('lab', { relay: 2, loss: 1 }, {})
    ])
    expect(s.targets).toEqual(['loopback', 'lab'])
    expect(s.byTarget.loopback).toEqual({ runs: 2, faults: { kill: 2, partition: 1 }, skipped: { relay: 1 } })
    expect(s.byTarget.lab).toEqual({ runs: 1, faults: { relay: 2, loss: 1 }, skipped: {} })
    expect(s.faults).toEqual({ kill: 2, partition: 1, relay: 2, loss: 1 })
  })
})
