import { describe, expect, it } from 'vitest'
import { backsOff, RefusalBackoff } from '../src/sweep/refusals.js'

describe('RefusalBackoff', () => {
  it('holds back one pass, doubles per refusal in a row up to 16 passes, and forgets on acceptance', () => {
    const b = new RefusalBackoff()
    const key = 'peer-a:4:10'
    expect(b.holding(key, 0)).toBe(false)
    b.refused(key, 100, 0)
    expect(b.holding(key, 99)).toBe(true)
    expect(b.holding(key, 100)).toBe(false)
    const until = [200, 400, 800, 1600, 1600]
    let now = 100
    for (const wait of until) {
      b.refused(key, 100, now)
      expect(b.holding(key, now + wait - 1)).toBe(true)
      expect(b.holding(key, now + wait)).toBe(false)
      now += wait
    }
    b.accepted(key)
    expect(b.holding(key, now)).toBe(false)
    b.refused(key, 100, now)
    expect(b.holding(key, now + 100)).toBe(false)
  })

  it('forgets a peer, stays bounded, and a stale refusal does not back off', () => {
    const b = new RefusalBackoff(2)
    b.refused('peer-a:4:10', 100, 0)
    b.refused('peer-b:4:10', 100, 0)
    b.forget('peer-a')
    expect(b.holding('peer-a:4:10', 0)).toBe(false)
    expect(b.holding('peer-b:4:10', 0)).toBe(true)
    b.refused('peer-c:4:10', 100, 0)
    b.refused('peer-d:4:10', 100, 0)
    expect(b.holding('peer-b:4:10', 0)).toBe(false)
    expect(b.holding('peer-d:4:10', 0)).toBe(true)
    expect(backsOff('STALE')).toBe(false)
    expect(backsOff('QUOTA')).toBe(true)
    expect(backsOff('STORE_FAILED')).toBe(true)
  })
})
