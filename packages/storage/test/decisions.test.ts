import { join } from 'node:path'
import { createLocalDHT, type LocalDHT } from '@chorus/dht'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chorusRecordRules,
  type EncryptedStorage,
  InvalidDecisionError,
  STORAGE_ERROR_CODES
} from '../src/index.js'
import { checkDecision } from '../src/write/decision-content.js'
import { startStorage, teamKeys } from './fixtures.js'
import { makeSigner, tempDir } from './helpers.js'

const decision = (over: Record<string, unknown> = {}) => ({
  task: 'task456',
  decision: 'Use PostgreSQL',
  rationale: 'orders need strong consistency',
  alternatives: [{ option: 'MongoDB', reasonRejected: 'no multi-document transactions we trust' }],
  author: { agent: 'agent001', role: 'backend_developer' },
  timestamp: '2026-01-02T03:04:05Z',
  ...over
})
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))

describe('decision content (checkDecision)', () => {
  it('accepts a decision and returns the fields the index keeps', () => {
    expect(checkDecision(bytes(decision()))).toEqual({
      task: 'task456',
      agent: 'agent001',
      role: 'backend_developer',
      decidedAt: Date.parse('2026-01-02T03:04:05Z')
    })
  })

  it.each([
    ['not JSON', 'Decision: use pattern Y', '(root)'],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), '(root)'],
    ['an array', [], '(root)'],
    ['an empty task', decision({ task: ' ' }), 'task'],
    ['a missing rationale', decision({ rationale: undefined }), 'rationale'],
    ['alternatives as strings', decision({ alternatives: ['MongoDB'] }), 'alternatives.0'],
    ['a wildcard author', decision({ author: { agent: 'any', role: 'backend_developer' } }), 'author.agent'],
    ['a bad timestamp', decision({ timestamp: 'yesterday' }), 'timestamp'],
    ['a bad reference', decision({ references: ['ucxl://a:b@c:d/*^/x', 'nope'] }), 'references.1']
  ])('refuses %s naming the field', (_what, content, field) => {
    const input = content instanceof Uint8Array ? content : bytes(content)
    let err: unknown
    try {
      checkDecision(input)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InvalidDecisionError)
    expect((err as InvalidDecisionError).field).toBe(field)
    expect((err as InvalidDecisionError).code).toBe(STORAGE_ERROR_CODES.INVALID_DECISION)
  })

  it('never quotes the content in its message', () => {
    expect(() => checkDecision(bytes('secret plan {'))).toThrow(
      /^invalid decision: \(root\): is not UTF-8 JSON$/
    )
  })
})

describe('decisions through EncryptedStorage', () => {
  const keys = teamKeys()
  const tmp = tempDir()
  let dht: LocalDHT
  let writer: EncryptedStorage
  let reader: EncryptedStorage
  const A = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'
  const B = 'ucxl://agent001:backend_developer@project123:task789/*^/decision'

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht'), records: chorusRecordRules() })
    await dht.start()
    const init = (name: string) => ({ dataDir: join(tmp.dir, name), nodeId: name, writeQuorum: 0 })
    writer = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      init: init('w')
    })
    reader = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['senior_architect'],
      init: init('r')
    })
  })

  afterAll(async () => {
    await writer?.stop()
    await reader?.stop()
    await dht?.close()
    tmp.remove()
  })

  it('refuses a store of type decision whose content is not one, before anything is written', async () => {
    const err = await writer
      .storeUCXLContent(A, 'Decision: use pattern Y', 'backend_developer', 'decision')
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidDecisionError)
    expect(writer.localVersion(A)).toBeUndefined()
    // the same bytes as plain text are fine
    await expect(
      writer.storeUCXLContent(`${A}-text`, 'Decision: use pattern Y', 'backend_developer', 'text/plain')
    ).resolves.toMatchObject({ contentType: 'text/plain' })
  })

  it('searches decisions by their task and author on the writer, and on a reader once it opened them', async () => {
    await writer.storeUCXLContent(A, JSON.stringify(decision()), 'backend_developer', 'decision')
    await writer.storeUCXLContent(
      B,
      JSON.stringify(
        decision({ task: 'pick a queue', author: { agent: 'agent002', role: 'senior_architect' } })
      ),
      'backend_developer',
      'decision'
    )
    const tasks = async (s: EncryptedStorage, q: Record<string, string>) =>
      (await s.searchContent(q)).map((m) => m.baseAddress).sort()
    expect(await tasks(writer, { decisionTask: 'task456' })).toEqual([A.replace('/*^/', '/')])
    expect(await tasks(writer, { decisionAgent: 'agent002' })).toEqual([B.replace('/*^/', '/')])
    expect(await tasks(writer, { decisionRole: 'backend_developer', decisionTask: 'pick a queue' })).toEqual(
      []
    )
    expect(await tasks(writer, { decisionTask: 'nothing' })).toEqual([])
    // the plain-text record is not a decision
    expect((await writer.searchContent({ decisionRole: 'backend_developer' })).length).toBe(1)
    // a reader knows nothing of the fields until it decrypts the content
    expect(await tasks(reader, { decisionTask: 'pick a queue' })).toEqual([])
    await reader.retrieveUCXLContent(B)
    expect(await tasks(reader, { decisionTask: 'pick a queue' })).toEqual([B.replace('/*^/', '/')])
  })
})
