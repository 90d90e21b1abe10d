/**
 * `DELETE /v1/content?address=...[&purge=true]`: deletes an address with a signed tombstone (see
 * `deleteUCXLContent` in @chorus/storage). 200 with `{ address, version, deleted: true }`; 403 when
 * the team's write rule refuses; 404 when nothing is there (or it is already deleted).
 */
import { responses } from '../openapi.js'
import type { RouteModule } from './context.js'
import { ADDRESS, query } from './schemas.js'

export const deleteRoutes: RouteModule = (app, { service, requireReady }) => {
  app.delete<{ Querystring: { address: string; purge: boolean } }>(
    '/v1/content',
    {
      schema: {
        summary: "Delete an address as the agent's role: a signed tombstone as the next version",
        description:
          '`purge=true`: every holder drops the earlier versions too. 404 when nothing is there (or it is already deleted).',
        tags: ['content'],
        response: responses({
          200: {
            type: 'object',
            required: ['address', 'version', 'deleted', 'purgeVersions'],
            properties: {
              address: { type: 'string' },
              version: { type: 'integer' },
              deleted: { const: true },
              purgeVersions: { type: 'boolean' },
              acks: { type: 'integer' }
            }
          }
        }),
        querystring: query({ address: ADDRESS, purge: { type: 'boolean', default: false } }, ['address'])
      }
    },
    async (req) => {
      requireReady()
      const { address, purge } = req.query
      return service.delete(address, { purgeVersions: purge })
    }
  )
}
