import { silentLogger } from '@chorus/common'
import type { QueryEvent } from '@libp2p/kad-dht'
import { describe, expect, it } from 'vitest'
import { NoPeersAcknowledgedError, NotFoundError, NotStartedError } from '../../src/errors.js'
import { ContentFetching, isPutAck, type ValueQueries } from '../../src/libp2p/content-fetching.js'
import { events, memoryRecords, peer, putAck, startedRun } from './fakes.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function fetching(kad: Partial<ValueQueries>, penalised: string[] = []) {
  const { store } = memoryRecords()
  const run = startedRun()
  const f = new ContentFetching(
    {
      kad: {
        put: kad.put ?? (() => events()),
        queryValues: kad.queryValues ?? (() => events())
      },
      records: store,
      reputation: { onInvalidRecord: (p: unknown) => void penalised.push(String(p)) } as never,
      peerId: () => 'me',
      run,
      logger: silentLogger
    },
    { queryTimeout: 2_000 }
  )
  return { f, store, run }
}

describe('isPutAck', () => {
  const value = enc.encode('v')
  it('is a PUT_VALUE response that echoes the record sent', () => {
    expect(isPutAck(putAck('a', value) as QueryEvent, value)).toBe(true)
    expect(isPutAck(putAck('a', enc.encode('other')) as QueryEvent, value)).toBe(false)
    expect(isPutAck({ ...putAck('a', value), messageName: 'GET_VALUE' } as QueryEvent, value)).toBe(false)
    expect(isPutAck({ ...putAck('a', value), record: undefined } as QueryEvent, value)).toBe(false)
    expect(isPutAck({ name: 'QUERY_ERROR', from: peer('a') } as QueryEvent, value)).toBe(false)
  })
})

describe('ContentFetching.putValue', () => {
  const value = enc.encode('v')

  it('counts only the peers whose response echoes the record', async () => {
    const { f } = fetching({
      put: () =>
        events(
          { name: 'SEND_QUERY' },
          putAck('a', value),
          putAck('b', enc.encode('refused')),
          { name: 'QUERY_ERROR', from: peer('c'), error: new Error('x') },
          putAck('d', value),
          putAck('a', value)
        )
    })
    const r = await f.putValue('/CHORUS/k', value)
    expect(r.acks.sort()).toEqual(['a', 'd'])
    expect(r.storedLocally).toBe(true)
  })

  it('resolves at minAcks and lets the rest finish', async () => {
    let finished = false
    const { f } = fetching({
      put: async function* () {
        yield putAck('a', value) as QueryEvent
        await new Promise((r) => setTimeout(r, 200))
        yield putAck('b', value) as QueryEvent
        finished = true
      }
    })
    const r = await f.putValue('/CHORUS/k', value, { minAcks: 1 })
    expect(r.acks).toEqual(['a'])
    expect(finished).toBe(false)
  })

  it('a put no peer acknowledged rejects with NoPeersAcknowledgedError', async () => {
    const { f } = fetching({ put: () => events({ name: 'SEND_QUERY' }) })
    const err = await f.putValue('/CHORUS/k', value).catch((e: unknown) => e)
    expect(NoPeersAcknowledgedError.isInstance(err)).toBe(true)
    expect((err as NoPeersAcknowledgedError).code).toBe('DHT_NO_ACKS')
  })

  it('localOnly stores in the record store and sends nothing', async () => {
    let sent = false
    const { f, store } = fetching({
      put: () => {
        sent = true
        return events()
      }
    })
    expect(await f.putValue('/CHORUS/k', value, { localOnly: true })).toEqual({
      key: '/CHORUS/k',
      acks: [],
      storedLocally: true
    })
    expect(sent).toBe(false)
    expect(dec.decode((await store.read('/CHORUS/k'))!)).toBe('v')
  })

  it('refuses before start and after stop', async () => {
    const { f, run } = fetching({})
    run.end()
    const err = await f.putValue('/CHORUS/k', value).catch((e: unknown) => e)
    expect(NotStartedError.isInstance(err)).toBe(true)
    expect((err as NotStartedError).code).toBe('DHT_NOT_STARTED')
  })
})

describe('ContentFetching.getValues / getValue', () => {
  it('one value per sender (this node as self), invalid records reported to the reputation system', async () => {
    const penalised: string[] = []
    const { f } = fetching(
      {
        queryValues: () =>
          events(
            { name: 'VALUE', from: peer('me'), value: enc.encode('a') },
            { name: 'VALUE', from: peer('p1'), value: enc.encode('c') },
            { name: 'QUERY_ERROR', from: peer('p2'), error: new Error('Invalid record received') },
            { name: 'VALUE', from: peer('p3'), value: enc.encode('b') }
          )
      },
      penalised
    )
    const values = await f.getValues('/CHORUS/k')
    expect(values.map((v) => [v.from, dec.decode(v.value)])).toEqual([
      ['self', 'a'],
      ['p1', 'c'],
      ['p3', 'b']
    ])
    expect(penalised).toEqual(['p2'])
    // the selector (largest) picks 'c'
    expect(dec.decode(await f.getValue('/CHORUS/k'))).toBe('c')
  })

  it('nothing found: getValues is empty, getValue throws NotFoundError with the dht code', async () => {
    const { f } = fetching({})
    expect(await f.getValues('/CHORUS/none')).toEqual([])
    const err = await f.getValue('/CHORUS/none').catch((e: unknown) => e)
    expect(NotFoundError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ code: 'DHT_NOT_FOUND', key: '/CHORUS/none' })
    expect((err as Error).message).toBe('no value found for key /CHORUS/none')
  })

  it('localOnly answers from the record store', async () => {
    const { f, store } = fetching({})
    await store.write('/CHORUS/k', enc.encode('x'))
    expect(await f.getValues('/CHORUS/k', { localOnly: true })).toEqual([
      { value: enc.encode('x'), from: 'self' }
    ])
  })
})
