/** Content: store, read (with `^^N`'s starting version), list, search, every version of an address. */
import type { SearchQuery } from '../../agent/service.js'
import { API_ERROR_CODES } from '../error-codes.js'
import { APIError } from '../errors.js'
import type { RouteModule } from './context.js'
import { ADDRESS, CONTENT_TYPE, LIMIT, NAME, query, VERSION } from './schemas.js'

/** What a store is typed as when the request names no content type. */
export const DEFAULT_CONTENT_TYPE = 'text/plain'

export const contentRoutes: RouteModule = (app, { service, requireReady }) => {
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
            contentType: CONTENT_TYPE
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
        contentType: contentType ?? DEFAULT_CONTENT_TYPE
      })
      return reply.status(201).send({ address, metadata })
    }
  )

  app.get<{ Querystring: { address: string; encoding: 'utf8' | 'base64'; fresh: boolean; from?: number } }>(
    '/v1/content',
    {
      schema: {
        querystring: query(
          {
            address: ADDRESS,
            encoding: { type: 'string', enum: ['utf8', 'base64'], default: 'utf8' },
            fresh: { type: 'boolean', default: false },
            from: VERSION
          },
          ['address']
        )
      }
    },
    async (req) => {
      requireReady()
      const { address, encoding, fresh, from } = req.query
      const { content, metadata } = await service.retrieve(address, {
        fresh,
        ...(from !== undefined ? { from } : {})
      })
      const text =
        encoding === 'base64' ? Buffer.from(content).toString('base64') : new TextDecoder().decode(content)
      return { address, encoding, content: text, metadata }
    }
  )

  app.get<{ Querystring: { address: string; limit: number } }>(
    '/v1/versions',
    { schema: { querystring: query({ address: ADDRESS, limit: LIMIT }, ['address']) } },
    async (req) => {
      requireReady()
      return service.versions(req.query.address, req.query.limit)
    }
  )

  app.get<{ Querystring: { role?: string; limit: number } }>(
    '/v1/list',
    { schema: { querystring: query({ role: NAME, limit: LIMIT }) } },
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
        querystring: query({
          agent: NAME,
          role: NAME,
          project: NAME,
          task: NAME,
          address: ADDRESS,
          contentType: CONTENT_TYPE,
          decisionTask: NAME,
          decisionAgent: NAME,
          decisionRole: NAME,
          allVersions: { type: 'boolean' },
          createdAfter: { type: 'string', format: 'date-time' },
          createdBefore: { type: 'string', format: 'date-time' },
          limit: LIMIT
        })
      }
    },
    async (req) => {
      requireReady()
      const items = await service.search(req.query)
      return { count: items.length, items }
    }
  )
}
