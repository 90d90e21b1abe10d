/**
 * The web console's routes: its pages (static, no token), the login exchange (a single-use ticket
 * for an HttpOnly session cookie), and the few additive API routes it needs: minting a ticket
 * (bearer only), the session's CSRF token, logout, and the sampled metrics.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AgentService } from '../agent/service.js'
import { APIError } from '../api/errors.js'
import { OBJECT, responses } from '../api/openapi.js'
import { CONSOLE_PREFIX, type ConsoleAccess, cookieValue, SESSION_COOKIE } from './access.js'
import { createMetricsSampler, type MetricsSampler } from './samples.js'
import { loadStaticFiles, type StaticFile } from './static-files.js'

export interface ConsoleInit {
  service: AgentService
  access: ConsoleAccess
  /** Metrics sampling period in ms. Default 5 s. */
  sampleIntervalMs?: number
  /** The built pages; default: read from dist/console-ui. */
  files?: Map<string, StaticFile>
}

/** Strict: nothing inline, nothing from elsewhere, no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
}

const LOGIN_FAILED = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CHORUS console: login link not valid</title>
<link rel="stylesheet" href="/console/assets/app.css"></head>
<body><main class="page narrow"><h1>This login link is not valid</h1>
<p>A login link works once, within 60 seconds. Run <code>chorus-node console</code> for a new one.</p></main></body></html>
`

function sessionCookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const flags = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`]
  if (req.protocol === 'https') flags.push('Secure')
  return `${SESSION_COOKIE}=${value}; ${flags.join('; ')}`
}

export function registerConsole(app: FastifyInstance, init: ConsoleInit): MetricsSampler {
  const { service, access } = init
  const files = init.files ?? loadStaticFiles()
  const sampler = createMetricsSampler({
    source: () => service.metrics(),
    ...(init.sampleIntervalMs !== undefined ? { intervalMs: init.sampleIntervalMs } : {})
  })
  app.addHook('onReady', async () => sampler.start())
  app.addHook('onClose', async () => sampler.stop())

  const send = (reply: FastifyReply, name: string) => {
    const file = files.get(name)
    if (file === undefined) {
      return secure(reply)
        .status(404)
        .type('text/plain; charset=utf-8')
        .send(name === 'index.html' ? 'the console is not built (pnpm run build)' : 'not found')
    }
    return secure(reply)
      .header('cache-control', name === 'index.html' ? 'no-store' : 'no-cache')
      .type(file.type)
      .send(file.body)
  }

  app.get(CONSOLE_PREFIX, HIDDEN, async (_req, reply) => secure(reply).redirect(`${CONSOLE_PREFIX}/`, 302))
  app.get(`${CONSOLE_PREFIX}/`, HIDDEN, async (_req, reply) => send(reply, 'index.html'))
  app.get<{ Params: { file: string } }>(
    `${CONSOLE_PREFIX}/assets/:file`,
    {
      schema: {
        hide: true,
        params: {
          type: 'object',
          properties: { file: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } }
        }
      }
    },
    async (req, reply) => send(reply, `assets/${req.params.file}`)
  )

  app.get<{ Querystring: { ticket?: string } }>(
    `${CONSOLE_PREFIX}/login`,
    {
      schema: {
        hide: true,
        querystring: {
          type: 'object',
          properties: { ticket: { type: 'string', maxLength: 128 } }
        }
      }
    },
    async (req, reply) => {
      secure(reply).header('cache-control', 'no-store')
      const session = access.sessions.redeem(req.query.ticket ?? '')
      if (session === undefined) return reply.status(401).type('text/html; charset=utf-8').send(LOGIN_FAILED)
      const maxAge = Math.floor(access.sessions.sessionTtlMs / 1000)
      return reply
        .header('set-cookie', sessionCookie(req, session.id, maxAge))
        .redirect(`${CONSOLE_PREFIX}/`, 303)
    }
  )

  app.post(
    '/v1/console/tickets',
    documented('Mint a single-use console login ticket (API token only; valid 60 s)', 201),
    async (req, reply) => {
      // the auth hook has checked the token when there is one; a console session may not mint more
      if (!(req.headers.authorization ?? '').startsWith('Bearer ')) {
        throw new APIError(403, 'UCXL-403-ACCESS_DENIED', 'a login ticket is minted with the API token only')
      }
      const { ticket, expiresAt } = access.sessions.mintTicket()
      return reply.status(201).send({
        path: `${CONSOLE_PREFIX}/login?ticket=${ticket}`,
        expiresAt: new Date(expiresAt).toISOString()
      })
    }
  )

  app.get(
    '/v1/console/session',
    documented('The console session of this request: its CSRF token, expiry, agent and role'),
    async (req) => {
      const session = access.authenticate(req)
      if (session === undefined) {
        throw new APIError(400, 'UCXL-400-BAD_REQUEST', 'this request carries no console session')
      }
      return {
        csrf: session.csrf,
        expiresAt: new Date(session.expiresAt).toISOString(),
        agentId: service.agentId,
        role: service.role
      }
    }
  )

  app.post(
    '/v1/console/logout',
    documented('End the console session of this request'),
    async (req, reply) => {
      const id = cookieValue(req.headers.cookie, SESSION_COOKIE)
      if (id !== undefined) access.sessions.end(id)
      return reply.header('set-cookie', sessionCookie(req, '', 0)).send({ loggedOut: true })
    }
  )

  app.get(
    '/v1/console/metrics',
    documented('Samples of the agent figures over the last hour, and the hybrid backend switches'),
    async () => ({
      intervalMs: sampler.intervalMs,
      samples: sampler.samples(),
      backendSwitches: sampler.switches()
    })
  )

  return sampler
}

/** Pages and assets: served to browsers, not part of the documented API. */
const HIDDEN = { schema: { hide: true } }

/** A console API route's OpenAPI description. */
function documented(summary: string, status = 200) {
  return { schema: { summary, tags: ['console'], response: responses({ [status]: OBJECT }) } }
}
