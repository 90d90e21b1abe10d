import { describe, expect, it } from 'vitest'
import { APIError, mapError } from '../src/api/errors.js'
import { numericLeaves } from '../src/api/metrics.js'

describe('API error mapping', () => {
  it('keeps UCXL codes and their status', () => {
    const e = Object.assign(new Error('bad address'), { code: 'UCXL-400-INVALID_ADDRESS' })
    expect(mapError(e)).toEqual({
      status: 400,
      body: { error: { code: 'UCXL-400-INVALID_ADDRESS', message: 'bad address' } }
    })
    expect(mapError(Object.assign(new Error('x'), { code: 'UCXL-404-NOT_FOUND' })).status).toBe(404)
  })

  it('translates crypto, dht and fastify errors', () => {
    expect(mapError(Object.assign(new Error('no'), { code: 'CRYPTO_ACCESS_DENIED' })).body.error.code).toBe(
      'UCXL-403-ACCESS_DENIED'
    )
    expect(mapError(Object.assign(new Error('t'), { code: 'DHT_TIMEOUT' })).status).toBe(504)
    const big = mapError(
      Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })
    )
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'UCXL-413-CONTENT_TOO_LARGE' } } })
    expect(mapError(new APIError(401, 'UCXL-401-UNAUTHORIZED', 'missing token')).status).toBe(401)
  })

  it('hides the message of unexpected errors', () => {
    const m = mapError(new Error('secret internals at /home/x'))
    expect(m.status).toBe(500)
    expect(m.body.error.message).not.toMatch(/internals/)
  })
})

describe('metrics flattening', () => {
  it('turns nested numeric, boolean and date fields into snake_case gauges', () => {
    const leaves = numericLeaves({
      storedItems: 3,
      ok: true,
      errors: { 'UCXL-404-NOT_FOUND': 2 },
      last: new Date(2000),
      name: 'ignored',
      list: [1, 2]
    })
    expect(Object.fromEntries(leaves)).toEqual({
      stored_items: 3,
      ok: 1,
      errors_ucxl_404_not_found: 2,
      last: 2,
      list_count: 2
    })
  })
})
