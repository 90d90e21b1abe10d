/** The team: signed team records from an administrator (team grant | revoke | rotate). */
import type { RouteModule } from './context.js'

export const teamRoutes: RouteModule = (app, { service, requireReady }) => {
  // the agent's record rules check each record before anything is taken or put
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
}
