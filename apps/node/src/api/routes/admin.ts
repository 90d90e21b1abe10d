/** The agent itself: health, readiness, metrics, status, the audit log, the hybrid backend. */
import { NO_TOKEN, OBJECT, OPTIONAL_TOKEN, responses } from '../openapi.js'
import type { RouteModule } from './context.js'

const agent = (summary: string, ok: Record<number, unknown>, extra: Record<string, unknown> = {}) => ({
  schema: { summary, tags: ['agent'], response: responses(ok), ...extra }
})

export const adminRoutes: RouteModule = (app, { service, metrics, requireReady }) => {
  app.get(
    '/healthz',
    agent(
      'Liveness: the process answers',
      { 200: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } } },
      { security: NO_TOKEN }
    ),
    async () => ({ status: 'ok' })
  )
  const readiness = {
    type: 'object',
    required: ['ready'],
    additionalProperties: true,
    properties: { ready: { type: 'boolean' } }
  }
  app.get(
    '/readyz',
    agent(
      'Readiness: started and able to serve reads and writes (503 with the reasons until then)',
      { 200: readiness, 503: readiness },
      { security: NO_TOKEN }
    ),
    async (_req, reply) => {
      const ready = service.isReady()
      return reply.status(ready ? 200 : 503).send({ ready, ...service.readiness() })
    }
  )
  app.get(
    '/metrics',
    agent(
      'Prometheus metrics (text format 0.0.4); needs the token only with api.metricsAuth',
      {
        200: {
          description: 'the metrics',
          content: { 'text/plain': { schema: { type: 'string' } } }
        }
      },
      { security: OPTIONAL_TOKEN }
    ),
    async (_req, reply) => {
      const text = await metrics.render()
      return reply.header('content-type', metrics.registry.contentType).send(text)
    }
  )

  app.get(
    '/v1/status',
    agent('Identity, role, team, network, DHT statistics, hybrid backends, storage and replication figures', {
      200: OBJECT
    }),
    async () => service.status()
  )

  app.get(
    '/v1/audit/verify',
    agent('Verify the signed audit log: `{ ok, entries, line?, reason?, disabled? }`', {
      200: {
        type: 'object',
        required: ['ok'],
        additionalProperties: true,
        properties: {
          ok: { type: 'boolean' },
          entries: { type: 'integer' },
          line: { type: 'integer' },
          reason: { type: 'string' },
          disabled: { type: 'boolean' }
        }
      }
    }),
    async () => {
      requireReady()
      return service.verifyAudit()
    }
  )

  app.get(
    '/v1/hybrid',
    agent('Hybrid DHT: mode, active backend, health of each backend, journal', { 200: OBJECT }),
    async () => {
      requireReady()
      return service.hybrid()
    }
  )
  app.post<{ Body: { mode: 'auto' | 'real' | 'mock' } }>(
    '/v1/hybrid/backend',
    {
      schema: {
        summary: 'Pin the network (`real`) or local (`mock`) backend, or let health decide (`auto`)',
        tags: ['agent'],
        response: responses({ 200: OBJECT }),
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
}
