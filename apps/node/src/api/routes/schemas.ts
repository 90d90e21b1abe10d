/** JSON-schema pieces the routes share: each input is bounded and checked before a handler runs. */

/** A UCXL address (or pattern, where the route says so). */
export const ADDRESS = { type: 'string', minLength: 1, maxLength: 2048 } as const
/** Most results of a list, search or versions. */
export const LIMIT = { type: 'integer', minimum: 1, maximum: 10_000, default: 100 } as const
/** A search field (agent, role, project, task, decision fields). */
export const NAME = { type: 'string', minLength: 1, maxLength: 512 } as const
/** A content type as storage accepts it (`text/plain`, `application/ld+json`, `decision`). */
export const CONTENT_TYPE = { type: 'string', pattern: '^[A-Za-z0-9_.+/-]{1,64}$' } as const
/** A role or capability name as the DHT announces it. */
export const PEER_NAME = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' } as const
/** A version number. */
export const VERSION = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const
/** Most providers of one address looked up. */
export const PROVIDER_LIMIT = { type: 'integer', minimum: 1, maximum: 100, default: 10 } as const

/** A query string of the given properties, nothing else. */
export const query = (properties: Record<string, unknown>, required: string[] = []) =>
  ({ type: 'object', additionalProperties: false, required, properties }) as const
