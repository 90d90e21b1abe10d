// The console's one way to the agent: same-origin fetches to the /v1 API, authenticated by the
// session cookie; a state-changing request carries the session's CSRF token.
let csrf = ''

/** A refusal or failure from the API, with its UCXL code (`UCXL-403-ACCESS_DENIED`). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export async function call(method, path, { query, body } = {}) {
  const url = new URL(path, window.location.origin)
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== '' && v !== false) url.searchParams.set(k, String(v))
  }
  const headers = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET') headers['x-chorus-csrf'] = csrf
  let res
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the agent does not answer')
  }
  const text = await res.text()
  let data
  try {
    data = text === '' ? {} : JSON.parse(text)
  } catch {
    data = {}
  }
  if (!res.ok) {
    throw new ApiError(res.status, data?.error?.code ?? `HTTP ${res.status}`, data?.error?.message ?? '')
  }
  return data
}

export const get = (path, query) => call('GET', path, { query })
export const post = (path, body) => call('POST', path, { body })

/** The console session (agent, role, CSRF token); an ApiError 401/400 when not logged in. */
export async function startSession() {
  const s = await get('/v1/console/session')
  csrf = s.csrf
  return s
}
