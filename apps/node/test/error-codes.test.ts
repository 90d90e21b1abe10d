import { readFileSync } from 'node:fs'
import { ChorusError, COMMON_ERROR_CODES, NotFoundError } from '@chorus/common'
import { CRYPTO_ERROR_CODES } from '@chorus/crypto'
import { DHT_ERROR_CODES } from '@chorus/dht'
import { HYBRID_ERROR_CODES } from '@chorus/hybrid'
import { REPLICATION_ERROR_CODES } from '@chorus/replication'
import { STORAGE_ERROR_CODES } from '@chorus/storage'
import { TEAM_ERROR_CODES } from '@chorus/team'
import { UCXL_ERROR_CODES, UCXLAddressError } from '@chorus/ucxl'
import { describe, expect, it } from 'vitest'
import { API_ERROR_CODES, HTTP_ERRORS } from '../src/api/error-codes.js'
import { APIError, mapError } from '../src/api/errors.js'
import { AGENT_ERROR_CODES, AgentError, ConfigError } from '../src/errors.js'

const coded = (code: string, message = `an error with code ${code}`) => new ChorusError(message, { code })

describe('the API error table', () => {
  it('maps every code in the table to its status and public code', () => {
    for (const [code, http] of Object.entries(HTTP_ERRORS)) {
      const mapped = mapError(coded(code))
      expect(mapped.status, code).toBe(http.status)
      expect(mapped.body.error.code, code).toBe(http.code)
      expect(http.code, code).toMatch(new RegExp(`^UCXL-${http.status}-[A-Z0-9_]+$`))
    }
  })

  it('has every code of every package, the agent and the API, none falling through to the fallback', () => {
    const all = [
      ...Object.values(COMMON_ERROR_CODES),
      ...Object.values(UCXL_ERROR_CODES),
      ...Object.values(CRYPTO_ERROR_CODES),
      ...Object.values(DHT_ERROR_CODES),
      ...Object.values(TEAM_ERROR_CODES),
      ...Object.values(STORAGE_ERROR_CODES),
      ...Object.values(HYBRID_ERROR_CODES),
      ...Object.values(REPLICATION_ERROR_CODES),
      ...Object.values(AGENT_ERROR_CODES),
      ...Object.values(API_ERROR_CODES)
    ]
    for (const code of all) {
      expect(Object.hasOwn(HTTP_ERRORS, code), code).toBe(true)
      expect(mapError(coded(code)).body.error.code, code).toBe(HTTP_ERRORS[code]?.code)
    }
  })

  it('maps the errors as the packages throw them', () => {
    expect(mapError(new NotFoundError('/x')).status).toBe(404)
    expect(mapError(new UCXLAddressError('temporal', 'is bad', '~x')).body.error.code).toBe(
      'UCXL-400-TEMPORAL_INVALID'
    )
    expect(mapError(new AgentError('later', { code: AGENT_ERROR_CODES.SHUTTING_DOWN })).body.error).toEqual({
      code: 'UCXL-503-SHUTTING_DOWN',
      message: 'later'
    })
    expect(mapError(new ConfigError(['x'])).status).toBe(500)
  })

  it('keeps an APIError its status and code', () => {
    expect(mapError(new APIError(401, API_ERROR_CODES.UNAUTHORIZED, 'no token'))).toEqual({
      status: 401,
      body: { error: { code: 'UCXL-401-UNAUTHORIZED', message: 'no token' } }
    })
  })

  it('maps aborts and time limits to 504, fastify validation to 400, a field is kept', () => {
    expect(mapError(new DOMException('x', 'AbortError')).status).toBe(504)
    expect(mapError(new DOMException('x', 'TimeoutError')).body.error.code).toBe('UCXL-504-TIMEOUT')
    expect(mapError(Object.assign(new Error('bad'), { validation: [] })).status).toBe(400)
    expect(mapError(Object.assign(new Error('gone'), { statusCode: 410 })).body.error.code).toBe(
      'UCXL-410-BAD_REQUEST'
    )
    expect(
      mapError(Object.assign(coded('INVALID_INPUT', 'bad limit'), { field: 'limit' })).body.error
    ).toEqual({
      code: 'UCXL-400-BAD_REQUEST',
      message: 'bad limit',
      field: 'limit'
    })
  })

  it('reads no status out of a code: one shaped like a public code but not in the table is a 500', () => {
    // Every package's codes are in the table (checked at compile time against their code types),
    // so a code the table lacks is not one of ours, whatever it looks like.
    expect(mapError(coded('UCXL-418-TEAPOT', 'secret at /home/x'))).toMatchObject({
      status: 500,
      body: { error: { code: 'UCXL-500-INTERNAL', message: 'internal error; see the agent log' } }
    })
  })

  it('answers an unknown error with a 500 that does not leak its message', () => {
    for (const err of [
      new Error('secret at /home/x'),
      coded('SOMETHING_NEW', 'secret at /home/x'),
      'secret',
      null
    ]) {
      const m = mapError(err)
      expect(m.status).toBe(500)
      expect(m.body.error.code).toBe('UCXL-500-INTERNAL')
      expect(m.body.error.message).not.toMatch(/secret/)
    }
    // storage's wrapper of an unexpected error carries that error's message: not shown either
    expect(mapError(coded('UCXL-500-INTERNAL', 'secret at /home/x')).body.error.message).not.toMatch(/secret/)
  })

  it("lists every public code in the README's error table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    for (const { code } of Object.values(HTTP_ERRORS)) expect(readme, code).toContain(`\`${code}\``)
  })
})
