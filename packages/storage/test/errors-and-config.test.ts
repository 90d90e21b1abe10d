// The error model (codes, the common base, the mapping of the layers' errors by class) and the
// resolved configuration.
import { ChorusError, NotStartedError, OperationTimeoutError } from '@chorus/common'
import {
  CiphertextIntegrityError,
  DecryptionDeniedError,
  MissingRecipientError,
  UnknownRoleError
} from '@chorus/crypto'
import { DHTTimeoutError, InvalidRecordError, NoPeersAcknowledgedError, NotFoundError } from '@chorus/dht'
import { UCXLAddressError } from '@chorus/ucxl'
import { describe, expect, it } from 'vitest'
import { encryptedStorageDefaults, resolveConfig } from '../src/config.js'
import { toStorageError } from '../src/error-mapping.js'
import {
  AccessDeniedError,
  ContentNotFoundError,
  InsufficientStorageError,
  IntegrityError,
  InvalidAddressError,
  STORAGE_ERROR_CODES,
  StorageError,
  StorageNotStartedError,
  StorageTimeoutError,
  UnknownCreatorRoleError,
  WriteQuorumError
} from '../src/errors.js'

describe('storage errors', () => {
  it('are ChorusErrors with their class name and a code from STORAGE_ERROR_CODES', () => {
    const codes = new Set<string>(Object.values(STORAGE_ERROR_CODES))
    const errors = [
      new ContentNotFoundError('a'),
      new UnknownCreatorRoleError('r'),
      new StorageTimeoutError('store of a', 5),
      new StorageNotStartedError()
    ]
    for (const e of errors) {
      expect(ChorusError.isInstance(e)).toBe(true)
      expect(e.name).toBe(e.constructor.name)
      expect(codes.has(e.code)).toBe(true)
    }
    expect(new UnknownCreatorRoleError('r').code).toBe('UCXL-400-UNKNOWN_ROLE')
    expect(StorageError.isInstance(new ContentNotFoundError('a'))).toBe(true)
  })

  it('the timeout and not-started errors are the common generic ones with storage codes', () => {
    const t = new StorageTimeoutError('store of a', 5)
    expect(OperationTimeoutError.isInstance(t)).toBe(true)
    expect(t).toMatchObject({ code: 'UCXL-504-TIMEOUT', ms: 5, message: 'store of a timed out after 5 ms' })
    const n = new StorageNotStartedError()
    expect(NotStartedError.isInstance(n)).toBe(true)
    expect(n).toMatchObject({
      code: 'UCXL-503-NOT_STARTED',
      message: 'encrypted storage is not started; call start() first'
    })
  })
})

describe('toStorageError', () => {
  const invalidated: string[] = []
  const ctx = {
    dataDir: '/data',
    requiredAcks: () => 2,
    onIntegrityFailure: (a: string) => void invalidated.push(a)
  }
  const map = (err: unknown) => toStorageError(err, 'ucxl://a:b@c:d/x', ctx)

  it('passes storage errors through, dropping the cache on an integrity failure', () => {
    const nf = new ContentNotFoundError('x')
    expect(map(nf)).toBe(nf)
    const t = new StorageTimeoutError('x', 1)
    expect(map(t)).toBe(t)
    invalidated.length = 0
    map(new IntegrityError('x', 'bad'))
    expect(invalidated).toEqual(['ucxl://a:b@c:d/x'])
  })

  it('maps the crypto errors by class', () => {
    expect(map(new DecryptionDeniedError('no key'))).toBeInstanceOf(AccessDeniedError)
    invalidated.length = 0
    expect(map(new CiphertextIntegrityError('hmac', 'bad mac'))).toBeInstanceOf(IntegrityError)
    expect(invalidated).toHaveLength(1)
    expect(map(new MissingRecipientError('r')).code).toBe('UCXL-500-MISSING_RECIPIENT')
    expect(map(new UnknownRoleError('ghost'))).toMatchObject({
      name: 'UnknownCreatorRoleError',
      role: 'ghost'
    })
  })

  it('maps the dht and ucxl errors by class', () => {
    expect(map(new DHTTimeoutError('get', 5))).toBeInstanceOf(StorageTimeoutError)
    expect(map(new NoPeersAcknowledgedError('/k'))).toMatchObject({
      constructor: WriteQuorumError,
      required: 2
    })
    expect(map(new NotFoundError('/k'))).toBeInstanceOf(ContentNotFoundError)
    expect(map(new InvalidRecordError('/k', 'bad'))).toBeInstanceOf(IntegrityError)
    expect(map(new UCXLAddressError('path', 'bad', 'x'))).toBeInstanceOf(InvalidAddressError)
  })

  it('does not classify by name or code: a look-alike plain error is internal', () => {
    const lookalike = Object.assign(new Error('x'), { name: 'NotFoundError', code: 'CRYPTO_ACCESS_DENIED' })
    expect(map(lookalike).code).toBe('UCXL-500-INTERNAL')
  })

  it('maps aborts, disk errors, bad arguments and anything else', () => {
    const aborted = map(new DOMException('stop', 'AbortError'))
    expect(aborted).toMatchObject({ code: 'UCXL-499-ABORTED', name: 'AbortError' })
    expect(map(Object.assign(new Error('full'), { code: 'ENOSPC' }))).toBeInstanceOf(InsufficientStorageError)
    expect(map(new TypeError('bad')).code).toBe('UCXL-400-BAD_REQUEST')
    expect(map('a string').code).toBe('UCXL-500-INTERNAL')
  })
})

describe('resolveConfig', () => {
  it('fills in every default and derives directReadPeers from writeQuorum', () => {
    const cfg = resolveConfig({ dataDir: '/d', nodeId: 'n' })
    expect(cfg).toMatchObject(encryptedStorageDefaults)
    expect(cfg.directReadPeers).toBe(3)
    expect(resolveConfig({ dataDir: '/d', nodeId: 'n', writeQuorum: 5 }).directReadPeers).toBe(5)
    expect(cfg.backgroundTimeout).toBe(120_000)
  })

  it('bounds what must be bounded and requires dataDir and nodeId', () => {
    const cfg = resolveConfig({
      dataDir: '/d',
      nodeId: 'n',
      maxBackgroundTasks: 0,
      maxChainWalk: 0,
      maxSuccessorProbe: -1
    })
    expect(cfg).toMatchObject({ maxBackgroundTasks: 1, maxChainWalk: 1, maxSuccessorProbe: 0 })
    expect(() => resolveConfig({ dataDir: '', nodeId: 'n' })).toThrow('init.dataDir is required')
    expect(() => resolveConfig({ dataDir: '/d' } as never)).toThrow('init.nodeId is required')
  })
})
