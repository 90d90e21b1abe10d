/** The two calls a client makes through an agent's HTTP API, with outcomes as a history needs them. */
import { createHash } from 'node:crypto'
import type { VersionSeen } from './history.js'
import type { NodeEndpoint } from './target.js'

export const digestOf = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** `ok`: it happened; `fail`: it certainly did not; `info`: unknown (it may still take effect). */
export type Outcome =
  | { type: 'ok'; seen?: VersionSeen; digest?: string | null }
  | { type: 'fail' | 'info'; error: string }

interface Metadata {
  version?: unknown
  envelopeHash?: unknown
  previous?: unknown
}

function seenOf(m: Metadata | undefined): VersionSeen | undefined {
  if (m === undefined || typeof m.version !== 'number' || typeof m.envelopeHash !== 'string') return undefined
  return {
    version: m.version,
    envelopeHash: m.envelopeHash,
    previous: typeof m.previous === 'string' ? m.previous : null
  }
}

/** Whether the request certainly never reached the agent. */
function neverSent(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } }
  return e.cause?.code === 'ECONNREFUSED' || e.code === 'ECONNREFUSED'
}

/** One request through the endpoint's own transport, bounded by `signal`. */
async function viaTransport(
  ep: NodeEndpoint & { request: NonNullable<NodeEndpoint['request']> },
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  signal: AbortSignal
): Promise<{ status: number; text: string }> {
  let onAbort: () => void = () => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    const r = await Promise.race([
      ep.request({
        method,
        path,
        headers,
        ...(body !== undefined ? { body } : {}),
        timeoutMs: timeoutMs + 1_000
      }),
      aborted
    ])
    return { status: r.status, text: r.body }
  } finally {
    signal.removeEventListener('abort', onAbort)
    aborted.catch(() => undefined)
  }
}

async function call(
  ep: NodeEndpoint,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number
): Promise<{ status: number; json: Record<string, unknown> } | { error: unknown; timeout: boolean }> {
  const signal = AbortSignal.timeout(timeoutMs)
  const headers = {
    authorization: `Bearer ${ep.token}`,
    ...(body !== undefined ? { 'content-type': 'application/json' } : {})
  }
  const payload = body !== undefined ? JSON.stringify(body) : undefined
  try {
    let status: number
    let text: string
    if (ep.request !== undefined) {
      const r = await viaTransport(
        { ...ep, request: ep.request },
        method,
        path,
        headers,
        payload,
        timeoutMs,
        signal
      )
      status = r.status
      text = r.text
    } else {
      const res = await fetch(`${ep.url}${path}`, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal
      })
      status = res.status
      text = await res.text()
    }
    let json: Record<string, unknown> = {}
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
    } catch {
      json = {}
    }
    return { status, json }
  } catch (error) {
    return { error, timeout: signal.aborted }
  }
}

const codeOf = (json: Record<string, unknown>, status: number): string =>
  String((json.error as { code?: unknown } | undefined)?.code ?? `HTTP_${status}`)

/**
 * Store `content` at `address`. A refusal before anything is written (4xx) is `fail`; a timeout, a
 * lost connection or a server-side failure (a quorum not reached, a timeout inside the agent) is
 * `info`: this node may have kept the version and may still spread it.
 */
export async function writeContent(
  ep: NodeEndpoint,
  address: string,
  content: string,
  timeoutMs: number
): Promise<Outcome> {
  const r = await call(ep, 'POST', '/v1/content', { address, content }, timeoutMs)
  if ('error' in r) {
    if (neverSent(r.error)) return { type: 'fail', error: 'connection refused' }
    return { type: 'info', error: r.timeout ? 'timeout' : 'connection lost' }
  }
  if (r.status === 201) {
    const seen = seenOf(r.json.metadata as Metadata | undefined)
    if (seen === undefined) return { type: 'info', error: 'no version in the answer' }
    return { type: 'ok', seen }
  }
  if (r.status >= 400 && r.status < 500 && r.status !== 408)
    return { type: 'fail', error: codeOf(r.json, r.status) }
  return { type: 'info', error: codeOf(r.json, r.status) }
}

/** Read `address` (latest, or the exact version its temporal segment names). 404 is an ok read of nothing. */
export async function readContent(ep: NodeEndpoint, address: string, timeoutMs: number): Promise<Outcome> {
  const r = await call(ep, 'GET', `/v1/content?address=${encodeURIComponent(address)}`, undefined, timeoutMs)
  if ('error' in r)
    return {
      type: 'fail',
      error: r.timeout ? 'timeout' : neverSent(r.error) ? 'connection refused' : 'connection lost'
    }
  if (r.status === 200 && typeof r.json.content === 'string') {
    const seen = seenOf(r.json.metadata as Metadata | undefined)
    if (seen === undefined) return { type: 'fail', error: 'no version in the answer' }
    return { type: 'ok', seen, digest: digestOf(r.json.content) }
  }
  if (r.status === 404) return { type: 'ok', digest: null }
  return { type: 'fail', error: codeOf(r.json, r.status) }
}
