import assert from 'node:assert/strict'
import { runSimulation, summarize } from '@chorus/bench'

// kad-dht's own routing-table and lookup code over a simulated network of 60 nodes, in one process.
const result = await runSimulation({
  sizes: [60],
  lookups: 20,
  deadFractions: [0, 0.3],
  crossCheckLookups: 5,
  seed: 7
})
const [size] = result.sizes
assert.equal(size?.nodes, 60)
const alive = size.byDead.find((d) => d.dead === 0)!.stats
assert.equal(alive.lookups, 20)
// With every node alive a lookup finds the true closest node.
assert.ok(alive.success >= 0.9, `success ${alive.success}`)
assert.ok(alive.hops.mean >= 1)

// The statistics helper the benchmarks report with (percentiles interpolate between samples).
const s = summarize([1, 2, 3, 4])
assert.deepEqual([s.count, s.mean, s.min, s.p50, s.max], [4, 2.5, 1, 2.5, 4])
