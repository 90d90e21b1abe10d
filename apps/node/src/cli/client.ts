import { existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { AgentAPIError, AgentUnreachableError, type ChorusClient, createChorusClient } from '@chorus/client'
import { OperationTimeoutError } from '@chorus/common'
import { AGENT_FILE, readAgentInfo, readSecretFile, TOKEN_FILE, writableByOthers } from '../util/files.js'
import { CLI_ERROR_CODES, CliError, EXIT, exitCodeForStatus } from './exit-codes.js'

export interface ClientOptions {
  dataDir?: string
  agentUrl?: string
  /** Request timeout in ms. Default 60 s. */
  timeoutMs?: number
}

/**
 * The agent's typed client (`@chorus/client`), whose failures are `CliError`s with the CLI's exit
 * codes: an API refusal keeps its UCXL code, no agent is `CLI_UNREACHABLE` (exit 5), no answer in
 * time `CLI_TIMEOUT` (exit 6).
 */
export type AgentClient = ChorusClient & { url: string }

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
export function agentConnection(
  options: ClientOptions,
  env = process.env
): { url: string; token: string | undefined; timeoutMs: number } {
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
  return { url, token, timeoutMs: options.timeoutMs ?? 60_000 }
}

/** The agent's client for the CLI (see {@link agentConnection} for how the agent is found). */
export function createClient(options: ClientOptions, env = process.env): AgentClient {
  const { url, token, timeoutMs } = agentConnection(options, env)
  const client = createChorusClient({ baseUrl: url, ...(token !== undefined ? { token } : {}), timeoutMs })
  const cliError = (err: unknown): unknown => {
    if (AgentAPIError.isInstance(err)) {
      return new CliError(`${err.code}: ${err.message}`, exitCodeForStatus(err.status), err.code, {
        cause: err
      })
    }
    if (OperationTimeoutError.isInstance(err)) {
      return new CliError(
        `the agent at ${url} did not answer within ${timeoutMs} ms`,
        EXIT.UNAVAILABLE,
        CLI_ERROR_CODES.TIMEOUT,
        { cause: err }
      )
    }
    if (AgentUnreachableError.isInstance(err)) {
      return new CliError(err.message, EXIT.UNREACHABLE, CLI_ERROR_CODES.UNREACHABLE, { cause: err })
    }
    return err
  }
  // every method of the client, its failures turned into CliErrors
  const wrapped = Object.fromEntries(
    Object.entries(client).map(([name, value]) => [
      name,
      typeof value === 'function'
        ? (...args: unknown[]) =>
            (value as (...a: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
              throw cliError(err)
            })
        : value
    ])
  ) as ChorusClient
  return { ...wrapped, url }
}
