import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { isAbortError } from '@chorus/common'
import { AGENT_FILE, readAgentInfo, readSecretFile, TOKEN_FILE, writableByOthers } from '../util/files.js'
import { CLI_ERROR_CODES, CliError, EXIT, exitCodeForStatus } from './exit-codes.js'

export interface ClientOptions {
  dataDir?: string
  agentUrl?: string
  /** Request timeout in ms. Default 60 s. */
  timeoutMs?: number
}

export interface AgentClient {
  url: string
  get<T = unknown>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>
  post<T = unknown>(path: string, body: unknown): Promise<T>
  delete<T = unknown>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>
}

function isLoopbackName(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (isIP(name) === 4) return name.startsWith('127.')
  return name === '::1'
}

/**
 * The URL `agent.json` names, if the token may go there: http(s) on a loopback address, or on a
 * host the user listed in `CHORUS_AGENT_HOSTS`. The file is only as trustworthy as the data
 * directory, so one that another user could have rewritten is refused too.
 */
function agentFileURL(dataDir: string, env: NodeJS.ProcessEnv): string | undefined {
  const path = join(dataDir, AGENT_FILE)
  const writable = writableByOthers(path)
  if (writable !== undefined) throw new CliError(`refusing to trust ${writable}`, EXIT.USAGE)
  const raw = readAgentInfo(dataDir)?.url
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new CliError(`${path} does not hold a valid URL`, EXIT.USAGE)
  }
  const listed = (env.CHORUS_AGENT_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '')
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (!['http:', 'https:'].includes(url.protocol) || !(isLoopbackName(host) || listed.includes(host))) {
    throw new CliError(
      `refusing to send the API token to ${url.host}, named by ${path}: not a loopback address; give --agent-url, or list the host in CHORUS_AGENT_HOSTS`,
      EXIT.USAGE
    )
  }
  return raw
}

/**
 * Find the agent and its token: `--agent-url` > `CHORUS_AGENT_URL` > the data directory
 * (`--data-dir` > `CHORUS_DATA_DIR` > ./.chorus), where a running agent writes `agent.json` (only a
 * loopback URL, or one in `CHORUS_AGENT_HOSTS`, is taken from it) and `api-token`; the token from
 * `CHORUS_API_TOKEN`, else that `api-token` file (never a flag: `ps` shows flags to every user).
 */
function withQuery(path: string, query?: Record<string, string | number | boolean | undefined>): string {
  const qs = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v))
  const s = qs.toString()
  return s === '' ? path : `${path}?${s}`
}

export function createClient(options: ClientOptions, env = process.env): AgentClient {
  const dataDir = resolve(options.dataDir ?? env.CHORUS_DATA_DIR ?? './.chorus')
  const url = (options.agentUrl ?? env.CHORUS_AGENT_URL ?? agentFileURL(dataDir, env))?.replace(/\/+$/, '')
  if (url === undefined) {
    throw new CliError(
      `no running agent found: ${join(dataDir, AGENT_FILE)} is missing; start one with \`chorus-node start\`, or give --agent-url / --data-dir`,
      EXIT.UNREACHABLE,
      CLI_ERROR_CODES.UNREACHABLE
    )
  }
  let token = env.CHORUS_API_TOKEN
  if (token === undefined && existsSync(join(dataDir, TOKEN_FILE)))
    token = readSecretFile(join(dataDir, TOKEN_FILE))
  const timeoutMs = options.timeoutMs ?? 60_000

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {})
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs)
      })
    } catch (err) {
      const e = err as Error
      if (isAbortError(e)) {
        throw new CliError(
          `the agent at ${url} did not answer within ${timeoutMs} ms`,
          EXIT.UNAVAILABLE,
          CLI_ERROR_CODES.TIMEOUT
        )
      }
      throw new CliError(
        `cannot reach the agent at ${url}: ${(e.cause as Error)?.message ?? e.message}`,
        EXIT.UNREACHABLE,
        CLI_ERROR_CODES.UNREACHABLE,
        {
          cause: err
        }
      )
    }
    const text = await res.text()
    let data: unknown
    try {
      data = text === '' ? {} : JSON.parse(text)
    } catch {
      data = { raw: text }
    }
    if (!res.ok) {
      const error = (data as { error?: { code?: string; message?: string } }).error
      throw new CliError(
        `${error?.code ?? `HTTP ${res.status}`}: ${error?.message ?? text}`,
        exitCodeForStatus(res.status),
        error?.code ?? `HTTP_${res.status}`
      )
    }
    return data as T
  }

  return {
    url,
    get(path, query) {
      return call('GET', withQuery(path, query))
    },
    delete(path, query) {
      return call('DELETE', withQuery(path, query))
    },
    post(path, body) {
      return call('POST', path, body)
    }
  }
}
