import { timingSafeEqual } from 'node:crypto'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest
} from 'fastify'
import type { Logger as PinoLogger } from 'pino'
import type { AgentService, SearchQuery } from '../agent/service.js'
import { API_ERROR_CODES } from './error-codes.js'
import { APIError, mapError } from './errors.js'
import { createHostCheck } from './host-check.js'
import { type APIMetrics, createAPIMetrics } from './metrics.js'
import { registerDeleteRoute } from './routes/delete.js'

export interface APIServerInit {
  service: AgentService
  /** Bearer token every request except /healthz, /readyz (and /metrics unless `metricsAuth`) needs. */
  token: string
  logger: PinoLogger
  /** Largest request body in bytes; larger gets 413. Default 2 MiB. */
  bodyLimitBytes?: number
  /** Require the token on /metrics. Default false. */
  metricsAuth?: boolean
  /**
   * Host names (besides IP literals and localhost) a request's Host header may name; any other
   * is refused with 421 before the token is looked at (DNS rebinding). Default none.
   */
  allowedHosts?: readonly string[]
}

export interface APIServer {
  app: FastifyInstance
  metrics: APIMetrics
  /** Listen on host:port (port 0 = ephemeral); resolves to the base URL. */
  listen(host: string, port: number): Promise<string>
  /** Stop taking requests and wait for in-flight ones. Idempotent. */
  close(): Promise<void>
}

const ADDRESS = { type: 'string', minLength: 1, maxLength: 2048 } as const
const LIMIT = { type: 'integer', minimum: 1, maximum: 10_000, default: 100 } as const
const NAME = { type: 'string', minLength: 1, maxLength: 256 } as const

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** How many times the body limit a refused request may declare and still be read to its end. */
const DRAIN_LIMIT_FACTOR = 8

/** The agent's local HTTP API (fastify): JSON in and out, bearer-token auth, UCXL error codes. */
export function createAPIServer(init: APIServerInit): APIServer {
  const { service, token, logger } = init
  const bodyLimit = init.bodyLimitBytes ?? 2 * 1_048_576
  const app = Fastify({
    // request logs at warn and above only: one line per request would drown the agent's log
    loggerInstance: logger.child({ component: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true } }
  })
  const metrics = createAPIMetrics(() => service.metrics())
  const open = new Set(['/healthz', '/readyz', ...(init.metricsAuth === true ? [] : ['/metrics'])])

  const hostAllowed = createHostCheck(init.allowedHosts)

  app.addHook('onRequest', async (req: FastifyRequest) => {
    ;(req as FastifyRequest & { startedAt?: bigint }).startedAt = process.hrtime.bigint()
    if (!hostAllowed(req.headers.host)) {
      throw new APIError(
        421,
        API_ERROR_CODES.HOST_NOT_ALLOWED,
        'the Host header does not name this agent (an IP address, localhost or a name in api.allowedHosts)'
      )
    }
    const path = req.url.split('?')[0] ?? ''
    if (open.has(path)) return
    const header = req.headers.authorization
    if (header === undefined || !header.startsWith('Bearer ')) {
      throw new APIError(
        401,
        API_ERROR_CODES.UNAUTHORIZED,
        'missing bearer token (Authorization: Bearer <token>)'
      )
    }
    if (!tokensEqual(header.slice('Bearer '.length).trim(), token)) {
      throw new APIError(401, API_ERROR_CODES.UNAUTHORIZED, 'invalid bearer token')
    }
  })
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    const route = req.routeOptions.url ?? 'unknown'
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) })
    const started = (req as FastifyRequest & { startedAt?: bigint }).startedAt
    if (started !== undefined) {
      metrics.duration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9)
    }
  })
  app.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(err)
    // fastify answers a body over the limit before reading it and asks for the connection to be
    // closed: a client still sending then gets a reset (EPIPE) instead of the 413. Up to a bound,
    // keep the connection instead, so Node discards the rest of the body and the client reads
    // its answer; a larger declared body is still cut off.
    if (mapped.status === 413 && Number(req.headers['content-length']) <= DRAIN_LIMIT_FACTOR * bodyLimit) {
      reply.removeHeader('connection')
    }
    if (mapped.status >= 500) req.log.error({ err }, 'request failed')
    else req.log.debug({ code: mapped.body.error.code }, 'request refused')
    return reply.status(mapped.status).send(mapped.body)
  })
  app.setNotFoundHandler(async (req: FastifyRequest, reply: FastifyReply) =>
    reply
      .status(404)
      .send({ error: { code: API_ERROR_CODES.NO_ROUTE, message: `no route ${req.method} ${req.url}` } })
  )

  const requireReady = () => {
    if (!service.isReady()) throw new APIError(503, API_ERROR_CODES.NOT_READY, 'the agent is not ready yet')
  }

  registerDeleteRoute(app, { service, requireReady })
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const ready = service.isReady()
    return reply.status(ready ? 200 : 503).send({ ready, ...service.readiness() })
  })
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render()
    return reply.header('content-type', metrics.registry.contentType).send(text)
  })

  app.post<{
    Body: { address: string; content?: string; contentBase64?: string; contentType?: string }
  }>(
    '/v1/content',
    {
      schema: {
        body: {
          type: 'object',
          required: ['address'],
          additionalProperties: false,
          properties: {
            address: ADDRESS,
            content: { type: 'string' },
            contentBase64: { type: 'string' },
            contentType: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' }
          }
        }
      }
    },
    async (req, reply) => {
      requireReady()
      const { address, content, contentBase64, contentType } = req.body
      if ((content === undefined) === (contentBase64 === undefined)) {
        throw new APIError(
          400,
          API_ERROR_CODES.BAD_REQUEST,
          'give exactly one of content (UTF-8) or contentBase64'
        )
      }
      const bytes =
        content !== undefined
          ? new TextEncoder().encode(content)
          : new Uint8Array(Buffer.from(contentBase64!, 'base64'))
      const metadata = await service.store({
        address,
        content: bytes,
        contentType: contentType ?? 'decision'
      })
      return reply.status(201).send({ address, metadata })
    }
  )

  app.get<{ Querystring: { address: string; encoding: 'utf8' | 'base64'; fresh: boolean } }>(
    '/v1/content',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['address'],
          additionalProperties: false,
          properties: {
            address: ADDRESS,
            encoding: { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' },
            fresh: { type: 'boolean', default: false }
          }
        }
      }
    },
    async (req) => {
      requireReady()
      const { address, encoding, fresh } = req.query
      const { content, metadata } = await service.retrieve(address, { fresh })
      const text =
        encoding === 'base64' ? Buffer.from(content).toString('base64') : new TextDecoder().decode(content)
      return { address, encoding, content: text, metadata }
    }
  )

  app.get<{ Querystring: { role?: string; limit: number } }>(
    '/v1/list',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { role: NAME, limit: LIMIT }
        }
      }
    },
    async (req) => {
      requireReady()
      const items = await service.list(req.query.role, req.query.limit)
      return { count: items.length, items }
    }
  )

  app.get<{ Querystring: SearchQuery }>(
    '/v1/search',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            agent: NAME,
            role: NAME,
            project: NAME,
            task: NAME,
            contentType: NAME,
            createdAfter: { type: 'string', format: 'date-time' },
            createdBefore: { type: 'string', format: 'date-time' },
            limit: LIMIT
          }
        }
      }
    },
    async (req) => {
      requireReady()
      const items = await service.search(req.query)
      return { count: items.length, items }
    }
  )

  app.get('/v1/status', async () => service.status())
  app.get('/v1/peers', async () => {
    const peers = await service.peers()
    return { count: peers.length, peers }
  })
  app.get<{ Querystring: { address?: string } }>(
    '/v1/replication',
    {
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { address: ADDRESS } }
      }
    },
    async (req) => {
      requireReady()
      return service.replication(req.query.address)
    }
  )
  // signed team records from an administrator (team grant | revoke | rotate): the agent's record
  // rules check each before anything is taken or put
  app.post<{ Body: { records: Array<{ key: string; value: string }> } }>(
    '/v1/team/records',
    {
      schema: {
        body: {
          type: 'object',
          required: ['records'],
          additionalProperties: false,
          properties: {
            records: {
              type: 'array',
              minItems: 1,
              maxItems: 64,
              items: {
                type: 'object',
                required: ['key', 'value'],
                additionalProperties: false,
                properties: {
                  key: { type: 'string', minLength: 1, maxLength: 256 },
                  value: { type: 'string', minLength: 1, maxLength: 350_000, pattern: '^[A-Za-z0-9_-]+$' }
                }
              }
            }
          }
        }
      }
    },
    async (req) => {
      requireReady()
      const records = req.body.records.map((r) => ({
        key: r.key,
        value: new Uint8Array(Buffer.from(r.value, 'base64url'))
      }))
      return service.applyTeamRecords(records)
    }
  )

  app.get('/v1/audit/verify', async () => {
    requireReady()
    return service.verifyAudit()
  })

  app.get('/v1/hybrid', async () => {
    requireReady()
    return service.hybrid()
  })
  app.post<{ Body: { mode: 'auto' | 'real' | 'mock' } }>(
    '/v1/hybrid/backend',
    {
      schema: {
        body: {
          type: 'object',
          required: ['mode'],
          additionalProperties: false,
          properties: { mode: { type: 'string', enum: ['auto', 'real', 'mock'] } }
        }
      }
    },
    async (req) => {
      requireReady()
      return service.switchBackend(req.body.mode)
    }
  )

  let closing: Promise<void> | undefined
  return {
    app,
    metrics,
    async listen(host, port) {
      await app.listen({ host, port })
      const addr = app.server.address()
      if (addr === null || typeof addr === 'string') throw new Error('API server has no TCP address')
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
      return `http://${h}:${addr.port}`
    },
    close() {
      closing ??= app.close()
      return closing
    }
  }
}
