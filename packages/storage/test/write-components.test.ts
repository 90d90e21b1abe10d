// Unit tests of the write path's components, without a network: per-address locks, the quorum
// count of the direct push (fake client), the write quorum cap and the store policy.

import { BackgroundTasks } from '@chorus/common'
import { describe, expect, it } from 'vitest'
import { busy, refusal } from '../src/direct/protocol.js'
import {
  AccessDeniedError,
  ContentTooLargeError,
  InvalidAddressError,
  InvalidContentTypeError,
  ReadOnlyRoleError,
  StorageError,
  UnknownCreatorRoleError
} from '../src/errors.js'
import { AddressLocks } from '../src/write/address-locks.js'
import { HEDGE_AFTER_MS, QuorumPush, reachedNearest, requiredAcks } from '../src/write/quorum-push.js'
import { checkStore } from '../src/write/store-policy.js'

const PEERS = [
  '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
  '12D3KooWCRscMgHgEo3ojm8ovzheydpvTEqsDtq7Vby38cMHrYjt',
  '12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8',
  '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq',
  '12D3KooWAkVdB6mnNLxEmsrVKvNsBRXr2S6S1b6SqZiSmjNkY3wT',
  '12D3KooWGJqyWAFbZdhpwUWkRTW4D8GYLtJB8qcTGTq6pH9kYd2Q'
]
const tick = () => new Promise((r) => setTimeout(r, 5))

describe('AddressLocks', () => {
  it('runs stores of one address one after the other, of different addresses at once', async () => {
    const locks = new AddressLocks()
    const log: string[] = []
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}+`)
      await new Promise((r) => setTimeout(r, ms))
      log.push(`${name}-`)
      return name
    }
    const results = await Promise.all([
      locks.run('a', job('a1', 30)),
      locks.run('a', job('a2', 1)),
      locks.run('b', job('b1', 1))
    ])
    expect(results).toEqual(['a1', 'a2', 'b1'])
    expect(log.indexOf('a1-')).toBeLessThan(log.indexOf('a2+'))
    expect(log.indexOf('b1-')).toBeLessThan(log.indexOf('a1-'))
    expect(locks.size).toBe(0)
  })

  it('a failed run does not block the next one', async () => {
    const locks = new AddressLocks()
    const failed = locks.run('a', async () => {
      throw new Error('boom')
    })
    const next = locks.run('a', async () => 'ok')
    await expect(failed).rejects.toThrow('boom')
    await expect(next).resolves.toBe('ok')
    expect(locks.size).toBe(0)
  })
})

describe('requiredAcks', () => {
  it('is the write quorum capped at the reachable peers', () => {
    expect(requiredAcks(3)).toBe(3)
    expect(requiredAcks(3, { getConnectedPeers: () => ['x'] })).toBe(1)
    expect(requiredAcks(3, { getConnectedPeers: () => PEERS })).toBe(3)
    expect(requiredAcks(-1.5)).toBe(0)
    expect(
      requiredAcks(2, {
        getConnectedPeers: () => {
          throw new Error('gone')
        }
      })
    ).toBe(2)
  })
})

describe('QuorumPush', () => {
  function pusher(
    answer: (peer: string) => Promise<boolean | 'busy'>,
    opts: { enabled?: boolean; peers?: string[] } = {}
  ) {
    const tasks = new BackgroundTasks()
    const asked: string[] = []
    const push = new QuorumPush(
      {
        direct: {
          client: {
            push: async (peer) => {
              asked.push(peer)
              const a = await answer(peer)
              if (a === 'busy') return busy(5)
              return a ? { ok: true } : refusal('INVALID_RECORD')
            }
          },
          getConnectedPeers: () => opts.peers ?? PEERS
        },
        background: { track: (t) => tasks.track(t), signal: new AbortController().signal }
      },
      { enabled: opts.enabled ?? true, directTimeout: 1_000 }
    )
    return { push, asked, tasks }
  }
  const records = [{ key: '/CHORUS/ucxl/x', value: new Uint8Array([1]) }]

  it('resolves with the peers that stored the records once the quorum has', async () => {
    // each peer answers 20 ms after the one before it
    const { push, asked, tasks } = pusher(async (peer) => {
      await new Promise((r) => setTimeout(r, 20 * (asked.indexOf(peer) + 1)))
      return true
    })
    const acked = (await push.push('/CHORUS/ucxl/x', records, 2)).peers
    expect(acked).toEqual(asked.slice(0, 2))
    expect(asked).toHaveLength(4) // the quorum plus two spares at once
    expect(tasks.size).toBeGreaterThan(0) // the spares' pushes go on in the background
    await tasks.drain()
  })

  it('with `atOnce`, sends to no spare when the quorum answers in time; hedges with two when it does not', async () => {
    // in time: the two nearest answer at once, nobody else is asked
    const fast = pusher(async () => true)
    expect((await fast.push.push('/CHORUS/ucxl/x', records, 2, 2)).peers).toHaveLength(2)
    await fast.tasks.drain()
    expect(fast.asked).toHaveLength(2)
    // the two nearest hang (until the push's time-out): two spares go out after HEDGE_AFTER_MS
    const slow = new Set<string>()
    let slowAnswered = 0
    const hedged = pusher(async (peer) => {
      if (slow.size < 2 && !slow.has(peer)) slow.add(peer)
      if (slow.has(peer)) {
        await new Promise((r) => setTimeout(r, 3 * HEDGE_AFTER_MS))
        slowAnswered++
      }
      return true
    })
    const outcome = await hedged.push.push('/CHORUS/ucxl/x', records, 2, 2)
    // the quorum came from the spares, before either slow peer answered
    expect(slowAnswered).toBe(0)
    expect(new Set(outcome.peers)).toEqual(new Set(hedged.asked.slice(2, 4)))
    expect(hedged.asked).toHaveLength(4)
    await hedged.tasks.drain()
  })

  it('asks the next nearest peer for each one that refuses or fails, up to what is there', async () => {
    const refusing = new Set(PEERS.slice(0, 4))
    const { push, asked } = pusher(async (peer) => {
      await tick()
      if (peer === PEERS[0]) throw new Error('no protocol')
      return !refusing.has(peer)
    })
    const acked = (await push.push('/CHORUS/ucxl/x', records, 2)).peers
    expect(new Set(acked)).toEqual(new Set(PEERS.slice(4)))
    expect(new Set(asked)).toEqual(new Set(PEERS))
  })

  it('resolves with fewer when every peer answered', async () => {
    const { push } = pusher(async (peer) => peer === PEERS[1])
    expect((await push.push('/CHORUS/ucxl/x', records, 3)).peers).toEqual([PEERS[1]])
  })

  it('pushes to nobody when disabled, without peers, or for a quorum of 0', async () => {
    const peersOf = async (p: Promise<{ peers: string[] }>) => (await p).peers
    expect(
      await peersOf(pusher(async () => true, { enabled: false }).push.push('/CHORUS/ucxl/x', records, 2))
    ).toEqual([])
    expect(
      await peersOf(pusher(async () => true, { peers: [] }).push.push('/CHORUS/ucxl/x', records, 2))
    ).toEqual([])
    expect(await peersOf(pusher(async () => true).push.push('/CHORUS/ucxl/x', records, 0))).toEqual([])
    expect(
      await peersOf(
        pusher(async () => true, { peers: ['not-a-peer-id'] }).push.push('/CHORUS/ucxl/x', records, 1)
      )
    ).toEqual([])
  })

  it('sends again to a peer that answers BUSY, and counts its acknowledgement', async () => {
    // with two peers and a quorum of 2 there is no spare: a BUSY peer must be waited for
    const twoPeers = PEERS.slice(0, 2)
    let busyAnswers = 0
    const { push, asked } = pusher(
      async (peer) => {
        if (peer === twoPeers[0] && busyAnswers < 3) {
          busyAnswers++
          return 'busy'
        }
        return true
      },
      { peers: twoPeers }
    )
    const out = await push.push('/CHORUS/ucxl/x', records, 2)
    expect(new Set(out.peers)).toEqual(new Set(twoPeers))
    expect(asked.filter((p) => p === twoPeers[0])).toHaveLength(4)
  })

  it('reports the nearest peers in order, and every peer that stored the records once all settled', async () => {
    const { push, asked } = pusher(async (peer) => {
      await new Promise((r) => setTimeout(r, 10 * (asked.indexOf(peer) + 1)))
      return true
    })
    const out = await push.push('/CHORUS/ucxl/x', records, 2)
    expect(out.peers).toHaveLength(2)
    expect(out.nearest.slice(0, 4)).toEqual(asked.slice(0, 4))
    expect(new Set(await out.settled)).toEqual(new Set(asked))
  })
})

describe('reachedNearest (kad puts skipped after a direct push)', () => {
  const outcome = (nearest: string[], stored: string[]) => ({
    peers: stored.slice(0, 2),
    nearest,
    settled: Promise.resolve(stored)
  })
  it('is true only when every one of the nearest `count` peers stored the records', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd']
    expect(await reachedNearest(outcome([a, b, c, d], [c, a, b]), 3)).toBe(true)
    // a spare further away does not stand in for a nearer peer that did not store them
    expect(await reachedNearest(outcome([a, b, c, d], [a, b, d]), 3)).toBe(false)
    // fewer peers connected than `count`: all of them
    expect(await reachedNearest(outcome([a, b], [b, a]), 3)).toBe(true)
    expect(await reachedNearest(outcome([a, b], [a]), 3)).toBe(false)
    // nobody to push to: the kad puts run
    expect(await reachedNearest(outcome([], []), 3)).toBe(false)
  })
})

describe('checkStore (store policy)', () => {
  const components = {
    roles: { has: (r: string) => r !== 'nobody', canStore: (r: string) => r !== 'observer' },
    keyring: { holdsRole: (r: string) => r === 'backend_developer' }
  }
  const init = { maxContentBytes: 8 }
  const ok = 'ucxl://a:backend_developer@p:t/*^/x'
  const check =
    (address: string, data: unknown, role = 'backend_developer', type = 'text/plain') =>
    () =>
      checkStore(components, init, address, data, role, type)

  it('returns the resolved address of a valid store', () => {
    const r = checkStore(components, init, ok, new Uint8Array(8), 'backend_developer', 'text/plain')
    expect(r.base).toBe('ucxl://a:backend_developer@p:t/x')
  })

  it('refuses each broken rule with its typed error', () => {
    const bytes = new Uint8Array(1)
    expect(check('ucxl://any:backend_developer@p:t/*^/x', bytes)).toThrow(InvalidAddressError)
    expect(check('ucxl://a:backend_developer@p:t/*~2/x', bytes)).toThrow(InvalidAddressError)
    expect(check('not an address', bytes)).toThrow(InvalidAddressError)
    expect(check(ok, 'text')).toThrow(StorageError)
    expect(check(ok, new Uint8Array(9))).toThrow(ContentTooLargeError)
    expect(check(ok, bytes, 'backend_developer', 'bad type!')).toThrow(InvalidContentTypeError)
    expect(check('ucxl://a:nobody@p:t/*^/x', bytes, 'nobody')).toThrow(UnknownCreatorRoleError)
    expect(check('ucxl://a:observer@p:t/*^/x', bytes, 'observer')).toThrow(ReadOnlyRoleError)
    expect(check('ucxl://a:devops_engineer@p:t/*^/x', bytes)).toThrow(AccessDeniedError)
    expect(check('ucxl://a:devops_engineer@p:t/*^/x', bytes, 'devops_engineer')).toThrow(AccessDeniedError)
  })
})
