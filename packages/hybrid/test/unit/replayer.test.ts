import { join } from 'node:path'
import { BackgroundTasks, silentLogger } from '@chorus/common'
import {
  createLocalDHT,
  type DHT,
  type LocalDHT,
  NoPeersAcknowledgedError,
  type RecordRules
} from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { BackendCalls } from '../../src/backend-calls.js'
import { valueChooser } from '../../src/choose.js'
import { FailoverState } from '../../src/failover.js'
import { ReadPath } from '../../src/reads.js'
import { JournalReplayer } from '../../src/replayer.js'
import { WritePath } from '../../src/writes.js'
import { Cleanup, dec, enc, waitFor } from '../helpers.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

/** A LocalDHT as the network primary that records its puts and can be slowed down. */
class SlowPrimary {
  readonly puts: string[] = []
  delay = 0
  constructor(readonly inner: LocalDHT) {}
  putValue: DHT['putValue'] = async (k, v, o) => {
    if (this.delay > 0) await new Promise((r) => setTimeout(r, this.delay))
    o?.signal?.throwIfAborted()
    const r = await this.inner.putValue(k, v, o)
    this.puts.push(k)
    return { ...r, acks: ['peer-x'] }
  }
  provide: DHT['provide'] = (k, o) => this.inner.provide(k, o)
  getValues: DHT['getValues'] = async (k, o) =>
    (await this.inner.getValues(k, o)).map((v) => ({ ...v, from: 'peer-x' }))
}

/** Versioned records: a value is a decimal version, the selector prefers the highest. */
const versioned: RecordRules = {
  validators: { CHORUS: async () => {} },
  selectors: {
    CHORUS: (_key, values) => {
      const versions = values.map((v) => Number(dec.decode(v)))
      return versions.indexOf(Math.max(...versions))
    }
  }
}

/** A primary whose peers refuse a put of an older version than they hold (as CHORUS succession does). */
class StalePeersPrimary extends SlowPrimary {
  override putValue: DHT['putValue'] = async (k, v, o) => {
    const held = await this.inner.getValue(k, o).catch(() => undefined)
    if (held !== undefined && Number(dec.decode(held)) > Number(dec.decode(v)))
      throw new NoPeersAcknowledgedError(k)
    const r = await this.inner.putValue(k, v, o)
    this.puts.push(k)
    return { ...r, acks: ['peer-x'] }
  }
}

/**
 * A replayer over a journal in a temp dir, with a LocalDHT primary, a LocalDHT fallback and the
 * write path in front of them; `restart()` builds a new one over the same directory.
 */
function setup(concurrency = 1, options: { records?: RecordRules; stalePeers?: boolean } = {}) {
  const dir = cleanup.dir('replayer')
  const records = options.records ?? permissiveRecords
  const network = cleanup.add(createLocalDHT({ records, peerId: 'network' }))
  const fallback = cleanup.add(createLocalDHT({ dataDir: join(dir, 'local'), records }))
  const primary = options.stalePeers === true ? new StalePeersPrimary(network) : new SlowPrimary(network)
  const choose = options.records !== undefined ? valueChooser(options.records) : undefined
  const build = () => {
    const lifetime = new AbortController()
    const failover = new FailoverState(
      { logger: silentLogger },
      { failureThreshold: 100, recoveryThreshold: 1, mode: 'auto' }
    )
    const calls = new BackendCalls(
      { lifetime: () => lifetime.signal, health: failover },
      { operationTimeout: 5_000, latencyWindow: 64 }
    )
    const tasks = new BackgroundTasks()
    const replayer = new JournalReplayer(
      { primary, calls, failover, lifetime: () => lifetime.signal, logger: silentLogger, tasks, choose },
      { dataDir: join(dir, 'journal'), synchronous: 'normal', concurrency, backoff: 1_000 }
    )
    const writes = new WritePath({
      primary,
      fallback,
      calls,
      failover,
      journal: replayer,
      lifetime: () => lifetime.signal,
      logger: silentLogger
    })
    const reads = new ReadPath({
      primary: network,
      fallback,
      calls: Object.assign(calls, {
        bounded: <T>(_label: string, _signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>) =>
          fn(lifetime.signal)
      }),
      failover,
      journal: replayer,
      lifetime: () => lifetime.signal,
      choose
    })
    replayer.start()
    const stop = async () => {
      lifetime.abort(new Error('stopped'))
      await tasks.drain()
      await replayer.stop()
    }
    cleanup.add({ close: stop })
    return { replayer, writes, reads, failover, stop }
  }
  return { network, fallback, primary, build }
}

describe('JournalReplayer', () => {
  it('journals writes while the network is down and replays the latest per key, in order', async () => {
    const { network, fallback, primary, build } = setup()
    const { replayer, writes } = build()
    await network.stop()
    for (const [k, v] of [
      ['k1', 'a'],
      ['k2', 'b'],
      ['k1', 'c']
    ] as const) {
      expect(await writes.put(`/CHORUS/${k}`, enc.encode(v), {})).toMatchObject({
        acks: [],
        storedLocally: true
      })
    }
    await writes.provide('/CHORUS/k2', {})
    expect(replayer.size).toBe(4)
    expect(replayer.has('put', '/CHORUS/k1')).toBe(true)
    expect(dec.decode(await fallback.getValue('/CHORUS/k1'))).toBe('c')

    // The network is still down: the replay stops at its first failure and keeps every entry.
    const failed = await replayer.replay()
    expect(failed).toMatchObject({ replayed: 0, dropped: 0, superseded: 0, pending: 4 })
    expect(failed.error).toMatch(/NotStartedError/)

    await network.start()
    expect(await replayer.replay()).toEqual({ replayed: 3, dropped: 0, superseded: 0, pending: 0 })
    expect(primary.puts).toEqual(['/CHORUS/k2', '/CHORUS/k1'])
    expect(dec.decode(await network.getValue('/CHORUS/k1'))).toBe('c')
    expect((await network.findProviders('/CHORUS/k2')).map((p) => p.id)).toEqual(['network'])
    expect(replayer.metrics()).toMatchObject({
      appended: 4,
      replayed: 3,
      dropped: 0,
      pending: 0,
      lastReplayError: null
    })
  })

  it('drops an entry the network refuses as invalid, and only that one', async () => {
    const { primary, build } = setup()
    const { replayer } = build()
    replayer.append('put', '/CHORUS/ok-1', enc.encode('fine'))
    replayer.append('put', '/CHORUS/huge', new Uint8Array(2 * 1024 * 1024))
    replayer.append('put', '/CHORUS/ok-2', enc.encode('fine'))
    expect(await replayer.replay()).toEqual({ replayed: 2, dropped: 1, superseded: 0, pending: 0 })
    expect(primary.puts).toEqual(['/CHORUS/ok-1', '/CHORUS/ok-2'])
    expect(replayer.metrics().dropped).toBe(1)
  })

  it('does not replay while the primary is not usable, and waits out the back-off unless forced', async () => {
    const { primary, build } = setup()
    const { replayer, failover } = build()
    failover.switchBackend('mock')
    replayer.append('put', '/CHORUS/a', enc.encode('x'))
    expect(await replayer.replay()).toEqual({ replayed: 0, dropped: 0, superseded: 0, pending: 1 })
    failover.switchBackend('auto')
    replayer.deferReplay()
    replayer.kick(false)
    expect(replayer.metrics().replaying).toBe(false)
    replayer.kick(true)
    expect(replayer.metrics().replaying).toBe(true)
    await waitFor('the forced replay', () => replayer.size === 0, 5_000)
    expect(primary.puts).toEqual(['/CHORUS/a'])
  })

  it('loses nothing when stop interrupts a replay, and resumes after a restart', async () => {
    const { primary, network, build } = setup(2)
    const first = build()
    const COUNT = 20
    for (let i = 0; i < COUNT; i++) first.replayer.append('put', `/CHORUS/r-${i}`, enc.encode(`v${i}`))
    primary.delay = 40
    first.replayer.kick(true)
    await waitFor('part of the replay', () => primary.puts.length >= 4, 5_000)
    await first.stop()
    const delivered = primary.puts.length
    expect(delivered).toBeLessThan(COUNT)
    expect(first.replayer.isOpen).toBe(false)
    // What the network acknowledged left the journal; the rest is still in it after a restart.
    const second = build()
    expect(second.replayer.size).toBe(COUNT - delivered)
    primary.delay = 0
    // A journal left by the earlier run replays on start without being asked.
    await waitFor('the resumed replay', () => second.replayer.size === 0, 5_000)
    for (let i = 0; i < COUNT; i++) expect(dec.decode(await network.getValue(`/CHORUS/r-${i}`))).toBe(`v${i}`)
    expect(new Set(primary.puts).size).toBe(COUNT)
    await second.stop()
  })

  it('drops a put the network superseded (it holds a newer record) and replays the writes behind it', async () => {
    const { network, fallback, primary, build } = setup(1, { records: versioned, stalePeers: true })
    const { replayer, writes, reads } = build()
    // this node wrote version 1 while no peer took it (say, at start, before it joined)
    await network.stop()
    await writes.put('/CHORUS/manifest', enc.encode('1'), {})
    await writes.put('/CHORUS/other', enc.encode('7'), {})
    await network.start()
    // meanwhile another writer put version 2 on the network
    await network.putValue('/CHORUS/manifest', enc.encode('2'))
    // the read prefers the network's newer record to the local journaled one
    expect(dec.decode(await reads.getValue('/CHORUS/manifest', {}))).toBe('2')
    expect(dec.decode(await fallback.getValue('/CHORUS/manifest'))).toBe('1')
    // peers refuse version 1 as stale: it leaves the journal instead of holding back the rest
    expect(await replayer.replay()).toEqual({ replayed: 1, dropped: 0, superseded: 1, pending: 0 })
    expect(primary.puts).toEqual(['/CHORUS/other'])
    expect(dec.decode(await network.getValue('/CHORUS/manifest'))).toBe('2')
    expect(replayer.metrics().superseded).toBe(1)
  })

  it('keeps a refused put journaled when the network holds an older record, and reads the local one', async () => {
    const { network, build } = setup(1, { records: versioned, stalePeers: true })
    const { replayer, writes, reads } = build()
    await network.stop()
    await writes.put('/CHORUS/manifest', enc.encode('3'), {})
    await network.start()
    await network.putValue('/CHORUS/manifest', enc.encode('2'))
    expect(dec.decode(await reads.getValue('/CHORUS/manifest', {}))).toBe('3')
    // the network takes version 3 over its 2: replayed, not superseded
    expect(await replayer.replay()).toEqual({ replayed: 1, dropped: 0, superseded: 0, pending: 0 })
    expect(dec.decode(await network.getValue('/CHORUS/manifest'))).toBe('3')
  })

  it('refuses to journal once stopped', async () => {
    const { build } = setup()
    const { replayer, stop } = build()
    await stop()
    expect(() => replayer.append('put', '/CHORUS/late', enc.encode('x'))).toThrow(/not started/)
    expect(replayer.size).toBe(0)
  })
})
