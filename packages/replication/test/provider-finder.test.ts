import { silentLogger } from '@chorus/common'
import { keyPeerDistance, log2Distance } from '@chorus/dht'
import { describe, expect, it } from 'vitest'
import { createCounters } from '../src/metrics.js'
import { ProviderFinder } from '../src/provider-finder.js'
import { byQualityThenDistance, providerQuality, rateProviders, reputationFactor } from '../src/quality.js'
import type { ProviderInfo } from '../src/types.js'

const KEY = '/CHORUS/test/finder'

function info(peerId: string, over: Partial<ProviderInfo> = {}): ProviderInfo {
  const d = keyPeerDistance(KEY, peerId)
  return {
    peerId,
    addedAt: new Date(0),
    lastSeen: new Date(0),
    quality: 0.5,
    distance: log2Distance(d),
    xorDistance: d.toString(16).padStart(64, '0'),
    live: true,
    proven: false,
    ...over
  }
}

describe('provider quality', () => {
  it('combines reachability, proof history and reputation, 0..1', () => {
    expect(providerQuality({ reachability: 1, proof: 'proven', reputation: 1 })).toBe(1)
    expect(providerQuality({ reachability: 0.5, proof: 'untested', reputation: 1 })).toBe(0.5)
    expect(providerQuality({ reachability: 1, proof: 'failed', reputation: 1 })).toBe(0.5)
    expect(providerQuality({ reachability: 1, proof: 'proven', reputation: 0.5 })).toBe(0.5)
    expect(providerQuality({ reachability: 7, proof: 'proven', reputation: -3 })).toBe(0)
    expect(providerQuality({ reachability: Number.NaN, proof: 'untested', reputation: 1 })).toBe(0.25)
  })

  it('takes the reputation system into account: penalty points lower it, a ban makes it 0', () => {
    const rep = {
      penalise: () => {},
      score: (p: string) => (p === 'bad' ? 40 : p === 'worse' ? 250 : 0),
      isBanned: (p: string) => p === 'banned'
    }
    expect(reputationFactor(undefined, 'x')).toBe(1)
    expect(reputationFactor(rep, 'clean')).toBe(1)
    expect(reputationFactor(rep, 'bad')).toBeCloseTo(0.6)
    expect(reputationFactor(rep, 'worse')).toBe(0)
    expect(reputationFactor(rep, 'banned')).toBe(0)
  })

  it('rates from the store, the proofs and the failed challenges; this node is 1', () => {
    const peers = new Map([
      ['reliable', 0.9],
      ['flaky', 0.2]
    ])
    const found = [
      info('self'),
      info('reliable', { proven: true }),
      info('flaky'),
      info('liar'),
      info('stranger')
    ]
    rateProviders(
      {
        peerId: 'self',
        store: () => ({
          getPeer: (p: string) =>
            peers.has(p) ? { peer: p, quality: peers.get(p)!, lastSeen: undefined } : undefined
        }),
        challengeFailed: (_k, p) => p === 'liar',
        reputation: undefined
      },
      KEY,
      found
    )
    expect(Object.fromEntries(found.map((p) => [p.peerId, p.quality]))).toEqual({
      self: 1,
      reliable: 0.95,
      flaky: 0.35,
      liar: 0.25,
      stranger: 0.5
    })
  })

  it('sorts by quality, then by XOR distance to the key', () => {
    const list = [info('a', { quality: 0.5 }), info('b', { quality: 0.9 }), info('c', { quality: 0.5 })]
    const sorted = [...list].sort(byQualityThenDistance)
    expect(sorted[0]!.peerId).toBe('b')
    const ties = sorted.slice(1)
    expect(ties[0]!.xorDistance < ties[1]!.xorDistance).toBe(true)
  })
})

describe('ProviderFinder', () => {
  function finder(init: { cached: number; providerTTL?: number }) {
    const calls: boolean[] = []
    const lifetime = new AbortController()
    const counters = createCounters()
    const state = { cached: init.cached }
    let release: (() => void) | undefined
    const gate = { wait: false }
    const f = new ProviderFinder(
      {
        verifier: {
          holders: async (_key, _signal, network = true) => {
            calls.push(network)
            if (network && gate.wait) await new Promise<void>((r) => (release = r))
            return [info('far', { proven: false }), info('near', { proven: true }), info('mid')]
          }
        },
        providers: { cached: () => state.cached },
        quality: { peerId: 'self', store: () => undefined, challengeFailed: () => false },
        lifetime: () => lifetime.signal,
        counters,
        log: silentLogger
      },
      { providerTTL: init.providerTTL ?? 24 * 3600_000 }
    )
    return { f, calls, counters, state, gate, release: () => release?.(), lifetime }
  }

  it('asks the DHT when the cache knows no provider, then answers from the cache', async () => {
    const { f, calls, counters, state } = finder({ cached: 0 })
    const signal = new AbortController().signal
    const first = await f.find(KEY, 10, signal)
    expect(calls).toEqual([true])
    expect(counters.providerCacheHits).toBe(0)
    // the proven provider first (quality 0.75), the untested ones (0.5) closest first
    expect(first[0]!.peerId).toBe('near')
    expect(first.map((p) => p.quality)).toEqual([0.75, 0.5, 0.5])
    expect(first[1]!.xorDistance < first[2]!.xorDistance).toBe(true)
    state.cached = 3
    const second = await f.find(KEY, 2, signal)
    expect(calls).toEqual([true, false])
    expect(counters.providerCacheHits).toBe(1)
    expect(second).toHaveLength(2)
  })

  it('refreshes a key whose last lookup is older than providerTTL in the background, once at a time', async () => {
    const { f, calls, counters, gate, release } = finder({ cached: 2, providerTTL: 0 })
    const signal = new AbortController().signal
    gate.wait = true
    // cached, never looked up: answered at once, refreshed behind
    await f.find(KEY, 10, signal)
    await f.find(KEY, 10, signal)
    expect(counters.providerCacheHits).toBe(2)
    expect(calls).toEqual([false, true, false])
    release()
    await f.drain()
    expect(calls.filter((n) => n)).toHaveLength(1)
  })

  it('does not refresh once the lifetime ended', async () => {
    const { f, calls, lifetime } = finder({ cached: 2, providerTTL: 0 })
    lifetime.abort()
    await f.find(KEY, 10, new AbortController().signal)
    await f.drain()
    expect(calls).toEqual([false])
  })
})
