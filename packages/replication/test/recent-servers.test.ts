import { describe, expect, it } from 'vitest'
import { RecentServers } from '../src/sweep/recent-servers.js'

describe('the servers a sweep saw lately', () => {
  it('keeps a server gone for less than the grace, and forgets it after', () => {
    const recent = new RecentServers(10_000)
    expect(recent.away(['a', 'b', 'c'], 0)).toEqual(new Set())
    // c restarts: still in the peer set, sent nothing
    expect(recent.away(['a', 'b'], 4_000)).toEqual(new Set(['c']))
    expect(recent.away(['a', 'b'], 10_000)).toEqual(new Set(['c']))
    // gone for longer than the grace: a departure, its keys go to the next closest
    expect(recent.away(['a', 'b'], 10_001)).toEqual(new Set())
    // back later: seen again, and away again only from then on
    expect(recent.away(['a', 'b', 'c'], 20_000)).toEqual(new Set())
    expect(recent.away(['a'], 25_000)).toEqual(new Set(['b', 'c']))
  })

  it('keeps nobody without a grace', () => {
    const recent = new RecentServers(0)
    expect(recent.away(['a', 'b'], 0)).toEqual(new Set())
    expect(recent.away(['a'], 1)).toEqual(new Set())
  })
})
