import assert from 'node:assert/strict'
import { checkHistory, createHistory, describeSchedule, generateSchedule } from '@chorus/faultcheck'

// The same seed always gives the same schedule of faults.
const schedule = generateSchedule({ seed: 42, nodes: 5, durationMs: 60_000 })
assert.deepEqual(generateSchedule({ seed: 42, nodes: 5, durationMs: 60_000 }), schedule)
console.log(describeSchedule(schedule))

// A history where a reader sees version 2 of an address and then version 1: not monotonic.
const history = createHistory()
const address = 'ucxl://n0:backend_developer@faults:run/*^/notes'
const v = (version: number) => ({
  version,
  envelopeHash: String(version).repeat(64),
  previous: version === 1 ? null : String(version - 1).repeat(64)
})
for (const version of [2, 1]) {
  const base = { kind: 'read', process: 7, client: 7, node: 1, incarnation: 1, address } as const
  const invoke = history.add({ ...base, type: 'invoke', time: version === 2 ? 0 : 2 })
  history.add({
    ...base,
    type: 'ok',
    time: version === 2 ? 1 : 3,
    invokeIndex: invoke.index,
    seen: v(version),
    digest: null
  })
}
const result = checkHistory(history)
assert.equal(result.valid, false)
assert.equal(result.counts['monotonic-reads'], 1)
console.log(result.violations[0]?.detail) // read version 2, then version 1
