import { ChorusError, NotFoundError as CommonNotFoundError, OperationTimeoutError } from '@chorus/common'
import { describe, expect, it } from 'vitest'
import {
  DHT_ERROR_CODES,
  DHTError,
  DHTTimeoutError,
  NotFoundError,
  NotStartedError,
  PeerBannedError,
  ProtocolError,
  RateLimitedError,
  StaleRecordError
} from '../../src/index.js'

describe('dht errors', () => {
  it('are ChorusErrors with stable names and codes', () => {
    const stale = new StaleRecordError('/CHORUS/k')
    expect(stale).toBeInstanceOf(DHTError)
    expect(ChorusError.isInstance(stale)).toBe(true)
    expect(stale.name).toBe('StaleRecordError')
    expect(stale.code).toBe(DHT_ERROR_CODES.STALE_RECORD)
    expect(new ProtocolError('/p', 'bad').code).toBe('DHT_PROTOCOL')
    expect(new RateLimitedError('p', 'x').code).toBe('DHT_RATE_LIMITED')
    expect(new PeerBannedError('p').name).toBe('PeerBannedError')
  })

  it('not found and not started are the common classes', () => {
    expect(NotFoundError).toBe(CommonNotFoundError)
    expect(new NotStartedError('X').message).toBe('X is not started')
  })

  it('DHTTimeoutError is an OperationTimeoutError with the dht code', () => {
    const err = new DHTTimeoutError('get /CHORUS/k', 250)
    expect(OperationTimeoutError.isInstance(err)).toBe(true)
    expect(err).toMatchObject({ name: 'DHTTimeoutError', code: 'DHT_TIMEOUT', ms: 250 })
    expect(err.message).toBe('get /CHORUS/k timed out after 250 ms')
  })

  it('codes are unique', () => {
    const codes = Object.values(DHT_ERROR_CODES)
    expect(new Set(codes).size).toBe(codes.length)
  })
})
