/** The agent itself: health, readiness, metrics, status, the audit log, the hybrid backend. */
import type { RouteModule } from './context.js'

export const adminRoutes: RouteModule = (app, { service, metrics, requireReady }) => {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const ready = service.isReady()
    return reply.status(ready ? 200 : 503).send({ ready, ...service.readiness() })
  })
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.render()
    return reply.header('content-type', metrics.registry.contentType).send(text)
  })

  app.get('/v1/status', async () => service.status())

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
}
