import { timingSafeEqual } from 'node:crypto'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest
} from 'fastify'
import type { Logger as PinoLogger } from 'pino'
import type { AgentService } from '../agent/service.js'
import { createConsoleAccess, registerConsole } from '../console/index.js'
import { API_ERROR_CODES } from './error-codes.js'
import { APIError, mapError } from './errors.js'
import { createHostCheck } from './host-check.js'
import { type APIMetrics, createAPIMetrics } from './metrics.js'
import { OPENAPI_PATH, openAPIRoute, registerOpenAPI } from './openapi.js'
import { adminRoutes } from './routes/admin.js'
import { contentRoutes } from './routes/content.js'
import { routeContext } from './routes/context.js'
import { deleteRoutes } from './routes/delete.js'
import { networkRoutes } from './routes/network.js'
import { teamRoutes } from './routes/team.js'

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
    // a role or capability name in a path may be 128 characters (the DHT's limit)
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, useDefaults: true } }
  })
  const metrics = createAPIMetrics(() => service.metrics())
  const open = new Set([
    '/healthz',
    '/readyz',
    OPENAPI_PATH,
    ...(init.metricsAuth === true ? [] : ['/metrics'])
  ])
  // Response schemas document the API (OpenAPI); answers are serialized as they are, with
  // JSON.stringify, so a field the schema does not name is never dropped from an answer.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  registerOpenAPI(app)

  const hostAllowed = createHostCheck(init.allowedHosts)
  // the web console: its pages need no token, its API calls carry a session cookie instead
  const consoleAccess = createConsoleAccess()

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
    if (open.has(path) || consoleAccess.isOpen(path)) return
    const header = req.headers.authorization
    if (header === undefined || !header.startsWith('Bearer ')) {
      if (consoleAccess.authenticate(req) !== undefined) return
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

  // every route module, registered here and nowhere else (each file under routes/ says what it serves)
  // (in a plugin, so that they are added after @fastify/swagger, which collects them as they are)
  const ctx = routeContext(service, metrics)
  void app.register(async (routes) => {
    for (const register of [adminRoutes, contentRoutes, deleteRoutes, networkRoutes, teamRoutes])
      register(routes, ctx)
    // the web console: its session routes are documented, its pages are not
    registerConsole(routes, { service, access: consoleAccess })
    openAPIRoute(routes)
  })

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
