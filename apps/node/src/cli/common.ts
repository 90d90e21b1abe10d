/** What every command that talks to the agent shares: its client, number arguments, rendering. */
import type { Command } from 'commander'
import { type AgentClient, createClient } from './client.js'
import { CliError, EXIT } from './exit-codes.js'

export interface GlobalOpts {
  dataDir?: string
  agentUrl?: string
  /** Refused: kept only to say why (see the option's definition). */
  token?: string
  json?: boolean
  timeout?: string
}

/** A token on the command line is visible to every user in `ps`: refused with the reason. */
export function refuseTokenFlag(o: GlobalOpts): void {
  if (o.token !== undefined) {
    throw new CliError(
      '--token is refused: every user on this machine can read it with `ps`; set CHORUS_API_TOKEN, or let the CLI read <dataDir>/api-token',
      EXIT.USAGE
    )
  }
}

export function clientFor(cmd: Command): { client: AgentClient; json: boolean } {
  const o = cmd.optsWithGlobals<GlobalOpts>()
  refuseTokenFlag(o)
  const timeoutMs = o.timeout !== undefined ? Number(o.timeout) : undefined
  return {
    client: createClient({
      ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
      ...(o.agentUrl !== undefined ? { agentUrl: o.agentUrl } : {}),
      ...(timeoutMs !== undefined && Number.isFinite(timeoutMs) ? { timeoutMs } : {})
    }),
    json: o.json === true
  }
}

export function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`expected a positive whole number, got ${JSON.stringify(value)}`, EXIT.USAGE)
  return n
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** One line per indexed version: address, content type, creator role, size, time. */
export function renderItems(items: Array<Record<string, unknown>>): string {
  if (items.length === 0) return '(nothing)'
  const when = (t: unknown) => (typeof t === 'number' ? new Date(t).toISOString() : String(t ?? ''))
  return items
    .map(
      (i) =>
        `${String(i.address ?? '?')}  ${String(i.contentType ?? '')}  ${String(i.creatorRole ?? '')}  ${String(i.size ?? '')} B  ${when(i.timestamp)}`
    )
    .join('\n')
}
