import { describe, expect, it } from 'vitest'
import { createRandom, describeSchedule, FAULT_KINDS, generateSchedule } from '../src/index.js'

describe('seeded schedule', () => {
  it('the same seed gives the same schedule; another seed another one', () => {
    const a = generateSchedule({ seed: 1234, nodes: 5, durationMs: 120_000 })
    expect(generateSchedule({ seed: 1234, nodes: 5, durationMs: 120_000 })).toEqual(a)
    expect(generateSchedule({ seed: 1235, nodes: 5, durationMs: 120_000 }).faults).not.toEqual(a.faults)
    expect(describeSchedule(a).split('\n')[0]).toBe(
      `seed 1234: ${a.faults.length} faults over 120 s on 5 nodes`
    )
  })

  it('faults are ordered, within the duration, one at a time, on existing nodes, with halves for partitions', () => {
    for (let seed = 0; seed < 200; seed++) {
      const s = generateSchedule({ seed, nodes: 5, durationMs: 90_000 })
      let end = 0
      for (const f of s.faults) {
        expect(f.at).toBeGreaterThanOrEqual(end)
        expect(f.durationMs).toBeGreaterThanOrEqual(4_000)
        end = f.at + f.durationMs
        expect(end).toBeLessThanOrEqual(90_000)
        if (f.kind === 'partition') {
          expect([...f.sides[0], ...f.sides[1]].sort()).toEqual([0, 1, 2, 3, 4])
          expect(f.sides[0]).toHaveLength(2)
        } else {
          expect(f.node).toBeGreaterThanOrEqual(0)
          expect(f.node).toBeLessThan(5)
        }
        if (f.kind === 'loss') expect(f.probability).toBeGreaterThan(0)
      }
    }
  })

  it('over many seeds every kind of fault is drawn; weights of 0 leave a kind out', () => {
    const kinds = new Set<string>()
    for (let seed = 0; seed < 50; seed++)
      for (const f of generateSchedule({ seed, nodes: 4, durationMs: 90_000 }).faults) kinds.add(f.kind)
    expect([...kinds].sort()).toEqual([...FAULT_KINDS].sort())
    const s = generateSchedule({
      seed: 9,
      nodes: 4,
      durationMs: 300_000,
      weights: { wipe: 0, relay: 0, loss: 0 }
    })
    expect(new Set(s.faults.map((f) => f.kind))).toEqual(new Set(['partition', 'kill']))
  })

  it('the PRNG is reproducible and its forks independent', () => {
    const a = createRandom(7)
    const b = createRandom(7)
    const xs = Array.from({ length: 5 }, () => a.next())
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs)
    expect(createRandom(7).fork(1).next()).not.toBe(createRandom(7).fork(2).next())
    expect(() => generateSchedule({ seed: 1, nodes: 1, durationMs: 1000 })).toThrow(RangeError)
  })
})
