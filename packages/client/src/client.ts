/**
 * `createChorusClient`: one typed method per route of the agent's HTTP API, over `openapi-fetch`
 * with the types `openapi-typescript` generates from the API's OpenAPI document
 * (`api-types.ts`). Every call takes `{ signal, timeoutMs }`; a refusal is an `AgentAPIError`
 * with the agent's UCXL code; transient failures are retried as `retry.ts` says.
 */
import { anySignal, isAbortError, OperationTimeoutError } from '@chorus/common'
import createFetchClient, { type Client } from 'openapi-fetch'
import type { components, paths } from './api-types.js'
import { AgentAPIError, AgentUnreachableError, CLIENT_ERROR_CODES } from './errors.js'
import { type RetryOptions, retryDefaults } from './retry.js'
import { retryingFetch } from './transport.js'

export type Metadata = components['schemas']['Metadata']
export type ErrorBody = components['schemas']['ErrorBody']
export type Items = components['schemas']['Items']
export type Peer = components['schemas']['Peer']
export type SearchQuery = NonNullable<paths['/v1/search']['get']['parameters']['query']>
export type BackendMode =
  paths['/v1/hybrid/backend']['post']['requestBody']['content']['application/json']['mode']
export type TeamRecord = { key: string; value: string }

/** What every call takes. */
export interface CallOptions {
  /** Aborts the call (its retries and waits included); it rejects with the signal's AbortError. */
  signal?: AbortSignal
  /** This call's time limit in ms, retries included; default the client's `timeoutMs`. */
  timeoutMs?: number
}

export interface ChorusClientInit {
  /** The agent's API URL, e.g. `http://127.0.0.1:7070` (its `<dataDir>/agent.json` names it). */
  baseUrl: string
  /** The agent's API token (`<dataDir>/api-token`); sent as `Authorization: Bearer`. */
  token?: string
  /**
   * Time limit of one call in ms, retries included.
   * @default 60000
   */
  timeoutMs?: number
  /** Retries of transient failures (see `RetryOptions`). */
  retry?: RetryOptions
  /** The fetch underneath (tests, proxies). Default the platform's. */
  fetch?: (request: Request) => Promise<Response>
}

/** What a store takes: the content as text (UTF-8) or bytes. */
export interface StoreInput {
  address: string
  content: string | Uint8Array
  /** `decision` (a decision record, JSON), `text/plain` (the agent's default), ... */
  contentType?: string
}

type FetchResult<T> = { data?: T; error?: unknown; response: Response }

function errorOf(status: number, body: unknown): AgentAPIError {
  const e = (body as { error?: { code?: unknown; message?: unknown; field?: unknown; version?: unknown } })
    ?.error
  if (typeof e?.code === 'string') {
    return new AgentAPIError(status, e.code, typeof e.message === 'string' ? e.message : '', {
      ...(typeof e.field === 'string' ? { field: e.field } : {}),
      ...(typeof e.version === 'number' ? { version: e.version } : {})
    })
  }
  const text = typeof body === 'string' ? body.slice(0, 500) : ''
  return new AgentAPIError(status, `HTTP_${status}`, text === '' ? `HTTP ${status}` : text)
}

/** A typed client of one agent's HTTP API. */
export function createChorusClient(init: ChorusClientInit) {
  const baseUrl = init.baseUrl.replace(/\/+$/, '')
  const defaultTimeoutMs = init.timeoutMs ?? 60_000
  const raw: Client<paths> = createFetchClient<paths>({
    baseUrl,
    headers: init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {},
    fetch: retryingFetch({
      retry: { ...retryDefaults, ...init.retry },
      ...(init.fetch !== undefined ? { fetch: init.fetch } : {})
    })
  })

  /** Runs one call under its time limit and turns every failure into a typed error. */
  async function call<T>(
    what: string,
    options: CallOptions | undefined,
    send: (signal: AbortSignal) => Promise<FetchResult<T>>,
    accept: (status: number) => boolean = () => false
  ): Promise<NonNullable<T>> {
    const ms = options?.timeoutMs ?? defaultTimeoutMs
    // the call's time limit, retries and their waits included; cleared when the call ends
    const limit = new AbortController()
    const timer = setTimeout(() => limit.abort(new DOMException('call timed out', 'TimeoutError')), ms)
    const signal = anySignal(limit.signal, options?.signal)
    let result: FetchResult<T>
    try {
      result = await send(signal)
    } catch (err) {
      if (options?.signal?.aborted === true) throw err
      if (signal.aborted || isAbortError(err)) {
        throw new OperationTimeoutError(`${what} at ${baseUrl}`, ms, {
          code: CLIENT_ERROR_CODES.TIMEOUT,
          cause: err
        })
      }
      if (err instanceof SyntaxError) {
        throw new AgentAPIError(0, CLIENT_ERROR_CODES.INVALID_RESPONSE, `${what}: the answer is not JSON`)
      }
      const cause = (err as { cause?: { message?: unknown } }).cause
      const reason = typeof cause?.message === 'string' ? cause.message : (err as Error).message
      throw new AgentUnreachableError(baseUrl, reason, { cause: err })
    } finally {
      clearTimeout(timer)
    }
    const { response } = result
    if (!response.ok && !accept(response.status)) throw errorOf(response.status, result.error)
    return (result.data ?? result.error) as NonNullable<T>
  }

  return {
    /** The API's URL. */
    baseUrl,
    /** The openapi-fetch client underneath (same token, retries), for what the methods do not cover. */
    raw,

    health: (o?: CallOptions) => call('health', o, (signal) => raw.GET('/healthz', { signal })),
    /** Readiness: `{ ready, ... }`, also while not ready (503 is an answer here, not an error). */
    readiness: (o?: CallOptions) =>
      call(
        'readiness',
        o,
        (signal) => raw.GET('/readyz', { signal }),
        (status) => status === 503
      ),
    status: (o?: CallOptions) => call('status', o, (signal) => raw.GET('/v1/status', { signal })),
    metrics: (o?: CallOptions) =>
      call('metrics', o, (signal) => raw.GET('/metrics', { signal, parseAs: 'text' })) as Promise<string>,
    openapi: (o?: CallOptions) => call('openapi', o, (signal) => raw.GET('/openapi.json', { signal })),
    auditVerify: (o?: CallOptions) =>
      call('audit verify', o, (signal) => raw.GET('/v1/audit/verify', { signal })),
    hybrid: (o?: CallOptions) => call('hybrid', o, (signal) => raw.GET('/v1/hybrid', { signal })),
    switchBackend: (mode: BackendMode, o?: CallOptions) =>
      call('switch backend', o, (signal) => raw.POST('/v1/hybrid/backend', { body: { mode }, signal })),

    /** Store content as the agent's role: the next version. Never retried once it may have run. */
    store: (input: StoreInput, o?: CallOptions) =>
      call('store', o, (signal) =>
        raw.POST('/v1/content', {
          body: {
            address: input.address,
            ...(typeof input.content === 'string'
              ? { content: input.content }
              : { contentBase64: Buffer.from(input.content).toString('base64') }),
            ...(input.contentType !== undefined ? { contentType: input.contentType } : {})
          },
          signal
        })
      ),
    /** Read and decrypt; `encoding: 'base64'` for bytes, `fresh` past the cache, `from` for `^^N`. */
    retrieve: (
      address: string,
      query: { encoding?: 'utf8' | 'base64'; fresh?: boolean; from?: number } = {},
      o?: CallOptions
    ) =>
      call('retrieve', o, (signal) =>
        raw.GET('/v1/content', { params: { query: { address, ...query } }, signal })
      ),
    versions: (address: string, query: { limit?: number } = {}, o?: CallOptions) =>
      call('versions', o, (signal) =>
        raw.GET('/v1/versions', { params: { query: { address, ...query } }, signal })
      ),
    list: (query: { role?: string; limit?: number } = {}, o?: CallOptions) =>
      call('list', o, (signal) => raw.GET('/v1/list', { params: { query }, signal })),
    search: (query: SearchQuery = {}, o?: CallOptions) =>
      call('search', o, (signal) => raw.GET('/v1/search', { params: { query }, signal })),
    /** Delete (a signed tombstone as the next version). Never retried once it may have run. */
    delete: (address: string, query: { purge?: boolean } = {}, o?: CallOptions) =>
      call('delete', o, (signal) =>
        raw.DELETE('/v1/content', { params: { query: { address, ...query } }, signal })
      ),

    peers: (o?: CallOptions) => call('peers', o, (signal) => raw.GET('/v1/peers', { signal })),
    /** Peers that announced a role or a capability on the DHT. */
    findPeers: (by: 'role' | 'capability', name: string, o?: CallOptions) =>
      call('find peers', o, (signal) =>
        by === 'role'
          ? raw.GET('/v1/peers/role/{role}', { params: { path: { role: name } }, signal })
          : raw.GET('/v1/peers/capability/{capability}', { params: { path: { capability: name } }, signal })
      ),
    /** A single-use console login ticket (`{ path, expiresAt }`, valid 60 s); the API token only. */
    consoleTicket: (o?: CallOptions) =>
      call('console ticket', o, (signal) => raw.POST('/v1/console/tickets', { signal })) as Promise<{
        path: string
        expiresAt: string
      }>,
    announce: (address: string, o?: CallOptions) =>
      call('announce', o, (signal) => raw.POST('/v1/content/announce', { body: { address }, signal })),
    contentPeers: (address: string, o?: CallOptions) =>
      call('content peers', o, (signal) =>
        raw.GET('/v1/content/peers', { params: { query: { address } }, signal })
      ),
    providers: (address: string, query: { limit?: number } = {}, o?: CallOptions) =>
      call('providers', o, (signal) =>
        raw.GET('/v1/content/providers', { params: { query: { address, ...query } }, signal })
      ),
    replication: (address?: string, o?: CallOptions) =>
      call('replication', o, (signal) =>
        raw.GET('/v1/replication', {
          params: { query: address !== undefined ? { address } : {} },
          signal
        })
      ),
    /** Signed team records (values base64url) for the agent to check, take and publish. */
    applyTeamRecords: (records: TeamRecord[], o?: CallOptions) =>
      call('team records', o, (signal) => raw.POST('/v1/team/records', { body: { records }, signal }))
  }
}

/** A typed client of one agent's HTTP API (see {@link createChorusClient}). */
export type ChorusClient = ReturnType<typeof createChorusClient>
