/** The JSON error body of every failed API request. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string }
}

export interface MappedError {
  status: number
  body: ApiErrorBody
}

const CODE_RE = /^UCXL-(\d{3})-[A-Z0-9_]+$/

/** A request error raised by the API itself (bad input, auth). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

/**
 * Map any error to an HTTP status and a JSON body with a UCXL code. Errors that already carry a
 * `UCXL-NNN-...` code (ucxl, storage) keep it; the crypto and dht errors are translated; anything
 * else is a 500 whose message does not leak internals.
 */
export function mapError(err: unknown): MappedError {
  const e = err as {
    code?: unknown
    name?: unknown
    message?: unknown
    statusCode?: unknown
    field?: unknown
  }
  const code = typeof e?.code === 'string' ? e.code : ''
  const message = typeof e?.message === 'string' ? e.message : String(err)
  const field = typeof e?.field === 'string' ? { field: e.field } : {}
  const out = (status: number, c: string, m = message): MappedError => ({
    status,
    body: { error: { code: c, message: m, ...field } }
  })

  if (err instanceof ApiError) return out(err.status, err.code)
  const m = CODE_RE.exec(code)
  if (m !== null) return out(Number(m[1]), code)
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return out(413, 'UCXL-413-CONTENT_TOO_LARGE', 'request body is larger than the API body limit')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return out(415, 'UCXL-415-UNSUPPORTED_MEDIA_TYPE')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return out(400, 'UCXL-400-BAD_REQUEST')
    case 'CRYPTO_ACCESS_DENIED':
      return out(403, 'UCXL-403-ACCESS_DENIED')
    case 'CRYPTO_INTEGRITY':
      return out(422, 'UCXL-422-INTEGRITY')
    case 'CRYPTO_UNKNOWN_ROLE':
      return out(400, 'UCXL-400-UNKNOWN_ROLE')
    case 'DHT_NOT_FOUND':
      return out(404, 'UCXL-404-NOT_FOUND')
    case 'DHT_TIMEOUT':
      return out(504, 'UCXL-504-TIMEOUT')
    case 'DHT_NOT_STARTED':
    case 'AGENT_NOT_READY':
      return out(503, 'UCXL-503-NOT_READY')
    case 'AGENT_SHUTTING_DOWN':
      return out(503, 'UCXL-503-SHUTTING_DOWN')
  }
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return out(504, 'UCXL-504-TIMEOUT')
  if ((e as { validation?: unknown })?.validation !== undefined) return out(400, 'UCXL-400-BAD_REQUEST')
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return out(e.statusCode, `UCXL-${e.statusCode}-BAD_REQUEST`)
  }
  return out(500, 'UCXL-500-INTERNAL', 'internal error; see the agent log')
}
