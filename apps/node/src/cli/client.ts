import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isAbortError } from '@chorus/common'
import { readAgentInfo, readSecretFile, TOKEN_FILE } from '../util/files.js'
import { CLI_ERROR_CODES, CliError, EXIT, exitCodeForStatus } from './exit-codes.js'

export interface ClientOptions {
  dataDir?: string
  agentUrl?: string
  token?: string
  /** Request timeout in ms. Default 60 s. */
  timeoutMs?: number
}

export interface AgentClient {
  url: string
  get<T = unknown>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>
  post<T = unknown>(path: string, body: unknown): Promise<T>
}

/**
 * Find the agent and its token: flags > `CHORUS_AGENT_URL` / `CHORUS_API_TOKEN` > the data directory
 * (`--data-dir` > `CHORUS_DATA_DIR` > ./.chorus), where a running agent writes `agent.json` and `api-token`.
 */
export function createClient(options: ClientOptions, env = process.env): AgentClient {
  const dataDir = resolve(options.dataDir ?? env.CHORUS_DATA_DIR ?? './.chorus')
  const url = (options.agentUrl ?? env.CHORUS_AGENT_URL ?? readAgentInfo(dataDir)?.url)?.replace(/\/+$/, '')
  if (url === undefined) {
    throw new CliError(
      `no running agent found: ${join(dataDir, 'agent.json')} is missing; start one with \`chorus-node start\`, or give --agent-url / --data-dir`,
      EXIT.UNREACHABLE,
      CLI_ERROR_CODES.UNREACHABLE
    )
  }
  let token = options.token ?? env.CHORUS_API_TOKEN
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
      const qs = new URLSearchParams()
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v))
      const s = qs.toString()
      return call('GET', s === '' ? path : `${path}?${s}`)
    },
    post(path, body) {
      return call('POST', path, body)
    }
  }
}
