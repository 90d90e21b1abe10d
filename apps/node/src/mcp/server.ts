/**
 * `chorus-node mcp`: a Model Context Protocol server (the official SDK) over stdio whose tools
 * call the local agent's HTTP API with its token. stdout is the protocol channel: nothing else is
 * written there; the log goes to stderr. A refused call is a tool result with `isError` and the
 * agent's code (`{ error: { code, message } }`), never a crash of the server.
 */
import type { ChorusClient } from '@chorus/client'
import { ChorusError } from '@chorus/common'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { Logger } from 'pino'
import { TOOLS } from './tools.js'

export interface MCPServerInit {
  client: ChorusClient
  logger: Logger
  version: string
}

/** A tool's answer: the JSON as text (what every MCP client shows) and as structured content. */
function answer(data: unknown, isError = false): CallToolResult {
  const structured =
    data !== null && typeof data === 'object' && !Array.isArray(data)
      ? { structuredContent: data as Record<string, unknown> }
      : {}
  return {
    content: [{ type: 'text', text: typeof data === 'string' ? data : JSON.stringify(data, null, 2) }],
    ...structured,
    ...(isError ? { isError: true } : {})
  }
}

/** The error of a refused or failed call: its stable code and message, nothing else. */
function refusal(err: unknown): CallToolResult {
  if (ChorusError.isInstance(err)) return answer({ error: { code: err.code, message: err.message } }, true)
  return answer({ error: { code: 'MCP_INTERNAL', message: 'the call failed; see the server log' } }, true)
}

/** The MCP server with one tool per agent operation (connect it to a transport). */
export function createMCPServer(init: MCPServerInit): McpServer {
  const { client, logger } = init
  const server = new McpServer(
    { name: 'chorus-node', version: init.version },
    {
      instructions:
        "Tools of a CHORUS agent: store and read role-encrypted content at UCXL addresses on the team's DHT, list and search it, and watch replication and peers. A refused call answers isError with { error: { code } }, a stable UCXL code."
    }
  )
  for (const t of TOOLS) {
    server.registerTool(
      t.name,
      {
        title: t.title,
        description: t.description,
        inputSchema: t.input,
        annotations: {
          title: t.title,
          readOnlyHint: t.readOnly,
          destructiveHint: false,
          idempotentHint: t.readOnly,
          openWorldHint: false
        }
      },
      async (input: Record<string, unknown>, extra: { signal: AbortSignal }) => {
        try {
          return answer(
            await (t.run as (c: ChorusClient, i: unknown, s: AbortSignal) => Promise<unknown>)(
              client,
              input,
              extra.signal
            )
          )
        } catch (err) {
          const result = refusal(err)
          if (ChorusError.isInstance(err)) logger.info({ tool: t.name, code: err.code }, 'tool call refused')
          else logger.error({ tool: t.name, err }, 'tool call failed')
          return result
        }
      }
    )
  }
  return server
}
