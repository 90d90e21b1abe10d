/**
 * The OpenAPI document: a real agent serves it at /openapi.json without a token; it equals the
 * committed apps/node/openapi.json (`pnpm --filter @chorus/node openapi` regenerates it), is valid
 * OpenAPI 3.1 by @seriousme/openapi-schema-validator, documents every route with a summary, its
 * success and the error body, and the agent's real answers match the schemas it documents.
 */
import { readFileSync } from 'node:fs'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AgentProcess,
  fastEnv,
  makeTeam,
  startAgentProcess,
  stopAllAgents,
  type Team
} from './helpers.js'

type Operation = {
  summary?: string
  security?: unknown[]
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>
}
type Document = {
  openapi: string
  security: unknown[]
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, unknown> }
}

const committed = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as Document
const OPEN = ['/healthz', '/readyz', '/openapi.json']

describe('the OpenAPI document', () => {
  let team: Team
  let agent: AgentProcess
  let served: Document

  beforeAll(async () => {
    team = await makeTeam(['backend_developer'])
    agent = await startAgentProcess({
      name: 'backend_developer',
      dataDir: team.dataDir('backend_developer'),
      env: fastEnv({ CHORUS_ROLE: 'backend_developer', CHORUS_LOG_LEVEL: 'warn' })
    })
    const res = await fetch(`${agent.info.url}/openapi.json`)
    expect(res.status, 'served without a token').toBe(200)
    served = (await res.json()) as Document
  }, 180_000)

  afterAll(async () => {
    await agent?.stop()
    await stopAllAgents()
    team?.cleanup()
  }, 60_000)

  it('served equals the committed apps/node/openapi.json (else: pnpm --filter @chorus/node openapi)', () => {
    expect(served).toEqual(committed)
  })

  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(served) as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect(validator.version).toBe('3.1')
  })

  it('documents every route: summary, success, the error body, and the bearer scheme', () => {
    expect(served.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' })
    )
    expect(served.security).toEqual([{ bearer: [] }])
    const operations = Object.entries(served.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, path, op }))
    )
    expect(operations.length).toBeGreaterThanOrEqual(21)
    for (const { at, path, op } of operations) {
      expect(op.summary, at).toMatch(/\w/)
      expect(
        Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
        at
      ).toBe(true)
      for (const range of ['4XX', '5XX']) {
        expect(op.responses[range]?.content?.['application/json']?.schema, `${at} ${range}`).toEqual({
          $ref: '#/components/schemas/ErrorBody'
        })
      }
      if (OPEN.includes(path)) expect(op.security, at).toEqual([])
    }
  })

  it("the agent's real answers match the schemas the document gives them", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    addFormats.default(ajv)
    ajv.addSchema(served, 'openapi')
    const check = (method: string, path: string, status: number, body: unknown) => {
      const op = served.paths[path]?.[method]
      const key = op?.responses[String(status)] !== undefined ? String(status) : `${String(status)[0]}XX`
      expect(op?.responses[key], `${method} ${path} documents ${status}`).toBeDefined()
      const pointer = ['paths', path, method, 'responses', key, 'content', 'application/json', 'schema']
        .map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1'))
        .join('/')
      const validate = ajv.compile({ $ref: `openapi#/${pointer}` })
      expect(validate(body) ? [] : validate.errors, `${method} ${path} ${status}`).toEqual([])
    }
    const address = 'ucxl://agent001:backend_developer@openapi:check/*^/decision'
    const calls: Array<[string, string, string, unknown?]> = [
      ['post', '/v1/content', '/v1/content', { address, content: 'described' }],
      ['get', '/v1/content', `/v1/content?address=${encodeURIComponent(address)}`],
      ['get', '/v1/versions', `/v1/versions?address=${encodeURIComponent(address)}`],
      ['get', '/v1/list', '/v1/list'],
      ['get', '/v1/search', '/v1/search?project=openapi'],
      ['get', '/v1/status', '/v1/status'],
      ['get', '/v1/peers', '/v1/peers'],
      ['get', '/v1/replication', '/v1/replication'],
      ['get', '/v1/audit/verify', '/v1/audit/verify'],
      ['get', '/v1/hybrid', '/v1/hybrid'],
      ['get', '/readyz', '/readyz'],
      ['get', '/healthz', '/healthz'],
      ['delete', '/v1/content', `/v1/content?address=${encodeURIComponent(address)}`],
      // refusals: the error body with its UCXL code
      ['get', '/v1/content', `/v1/content?address=${encodeURIComponent(address)}`],
      ['get', '/v1/content', '/v1/content?address=not-an-address'],
      ['post', '/v1/content', '/v1/content', { address: 'ucxl://x:y@p:t/*^/z' }]
    ]
    const statuses: number[] = []
    for (const [method, path, url, body] of calls) {
      const res = await agent.api(method.toUpperCase(), url, body)
      statuses.push(res.status)
      check(method, path, res.status, res.body)
    }
    // the last three are refusals (410 deleted, 400 invalid address, 400 bad request)
    expect(statuses.slice(-3).every((s) => s >= 400)).toBe(true)
    expect(statuses.slice(0, -3).every((s) => s < 300)).toBe(true)
    const unauthorized = await fetch(`${agent.info.url}/v1/status`)
    expect(unauthorized.status).toBe(401)
    check('get', '/v1/status', 401, await unauthorized.json())
  })
})
