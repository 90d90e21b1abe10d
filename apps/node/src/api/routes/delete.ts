/**
 * `DELETE /v1/content?address=...[&purge=true]`: deletes an address with a signed tombstone (see
 * `deleteUCXLContent` in @chorus/storage). 200 with `{ address, version, deleted: true }`; 403 when
 * the team's write rule refuses; 404 when nothing is there (or it is already deleted).
 */
import type { FastifyInstance } from 'fastify'
import type { AgentService } from '../../agent/service.js'

export interface DeleteRouteInit {
  service: Pick<AgentService, 'delete'>
  /** Throws the API's 503 while the agent is not ready. */
  requireReady(): void
}

const ADDRESS = { type: 'string', minLength: 1, maxLength: 2048 } as const

/** Registers the route on the API's fastify app (token and error handling are the app's). */
export function registerDeleteRoute(app: FastifyInstance, init: DeleteRouteInit): void {
  app.delete<{ Querystring: { address: string; purge: boolean } }>(
    '/v1/content',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['address'],
          additionalProperties: false,
          properties: { address: ADDRESS, purge: { type: 'boolean', default: false } }
        }
      }
    },
    async (req) => {
      init.requireReady()
      const { address, purge } = req.query
      return init.service.delete(address, { purgeVersions: purge })
    }
  )
}
