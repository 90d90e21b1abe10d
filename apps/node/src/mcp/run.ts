/** Runs the MCP server on stdin/stdout until the client closes the stream or a signal ends it. */
import type { ChorusClient } from '@chorus/client'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { pino } from 'pino'
import { createMCPServer } from './server.js'

export interface RunMCPInit {
  client: ChorusClient
  version: string
  /** pino level of the stderr log. Default `info`. */
  logLevel?: string
}

export async function runMCPServer(init: RunMCPInit): Promise<void> {
  // stdout carries the protocol: the log goes to stderr, secret-looking keys redacted
  const logger = pino(
    {
      level: init.logLevel ?? 'info',
      base: { pid: process.pid, component: 'mcp' },
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization'], censor: '[redacted]' }
    },
    pino.destination(2)
  )
  const server = createMCPServer({ client: init.client, logger, version: init.version })
  const transport = new StdioServerTransport()
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve()
    process.stdin.once('end', () => resolve())
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
  })
  await server.connect(transport)
  logger.info({ agent: init.client.baseUrl }, 'MCP server on stdio')
  await closed
  await server.close()
  // a signal ended it with stdin still open: let go of it, so the process can exit
  process.stdin.destroy()
  logger.info('MCP server closed')
}
