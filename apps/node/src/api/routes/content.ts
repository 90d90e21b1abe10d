/** Content: store, read (with `^^N`'s starting version), list, search, every version of an address. */
import type { SearchQuery } from '../../agent/service.js'
import { API_ERROR_CODES } from '../error-codes.js'
import { APIError } from '../errors.js'
import { ITEMS, METADATA, ref, responses } from '../openapi.js'
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
        summary: "Store content at an address as the agent's role (the next version)",
        description:
          'Give exactly one of `content` (UTF-8) or `contentBase64`. `decision` content must be a decision record (JSON). Not idempotent: each store writes a new version.',
        tags: ['content'],
        response: responses({
          201: {
            type: 'object',
            required: ['address', 'metadata'],
            properties: { address: { type: 'string' }, metadata: ref(METADATA) }
          }
        }),
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
        summary: 'Retrieve and decrypt the content at an address (temporal segments resolve)',
        description:
          "`fresh=true` bypasses the cache; `from=N` is the version a forward segment `^^K` counts from. A deleted address answers 410 `UCXL-410-DELETED` with the tombstone's `version`.",
        tags: ['content'],
        response: responses({
          200: {
            type: 'object',
            required: ['address', 'encoding', 'content', 'metadata'],
            properties: {
              address: { type: 'string' },
              encoding: { type: 'string', enum: ['utf8', 'base64'] },
              content: { type: 'string' },
              metadata: ref(METADATA)
            }
          }
        }),
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
    {
      schema: {
        summary: 'Every version of one address in the local index, oldest first',
        tags: ['content'],
        response: responses({ 200: ref(ITEMS) }),
        querystring: query({ address: ADDRESS, limit: LIMIT }, ['address'])
      }
    },
    async (req) => {
      requireReady()
      return service.versions(req.query.address, req.query.limit)
    }
  )

  app.get<{ Querystring: { role?: string; limit: number } }>(
    '/v1/list',
    {
      schema: {
        summary: 'Index entries by creator role (every role without one)',
        tags: ['content'],
        response: responses({ 200: ref(ITEMS) }),
        querystring: query({ role: NAME, limit: LIMIT })
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
        summary:
          'Search the local index by address fields or pattern, content type, time and decision fields',
        description:
          '`address` is a pattern (`any` components, `*`/`**` path segments); the `decision*` fields match decisions this agent stored or opened.',
        tags: ['content'],
        response: responses({ 200: ref(ITEMS) }),
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
