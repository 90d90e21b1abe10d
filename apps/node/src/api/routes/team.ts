/** The team: signed team records from an administrator (team grant | revoke | rotate). */
import { OBJECT, responses } from '../openapi.js'
import type { RouteModule } from './context.js'

export const teamRoutes: RouteModule = (app, { service, requireReady }) => {
  // the agent's record rules check each record before anything is taken or put
  app.post<{ Body: { records: Array<{ key: string; value: string }> } }>(
    '/v1/team/records',
    {
      schema: {
        summary: 'Apply signed team records (manifest, revocation list, grants) and put them on the DHT',
        description:
          "Each record must pass the team's record rules (else 422 `UCXL-422-INVALID_RECORD`, nothing applied); values are base64url.",
        tags: ['team'],
        response: responses({ 200: OBJECT }),
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
