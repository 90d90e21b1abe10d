/**
 * `chorus-node mcp`: a Model Context Protocol server on stdio for the agent of `--data-dir` /
 * `--agent-url` (found, with its token, as every other command finds it). Add it to an MCP client
 * as the command `chorus-node mcp --data-dir <dir>`.
 */
import type { Command } from 'commander'
import { agentConnection } from './client.js'
import { type GlobalOpts, refuseTokenFlag } from './common.js'

export function addMcpCommand(program: Command, version: string): void {
  program
    .command('mcp')
    .description(
      'serve the agent as MCP tools over stdio (store, retrieve, list, search, replication_status, peers); logs to stderr'
    )
    .option('--log-level <level>', 'log level of the stderr log', 'info')
    .action(async (opts: { logLevel: string }, cmd: Command) => {
      const o = cmd.optsWithGlobals<GlobalOpts>()
      refuseTokenFlag(o)
      const timeoutMs = o.timeout !== undefined ? Number(o.timeout) : undefined
      const {
        url,
        token,
        timeoutMs: ms
      } = agentConnection({
        ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
        ...(o.agentUrl !== undefined ? { agentUrl: o.agentUrl } : {}),
        ...(timeoutMs !== undefined && Number.isFinite(timeoutMs) ? { timeoutMs } : {})
      })
      const [{ createChorusClient }, { runMCPServer }] = await Promise.all([
        import('@chorus/client'),
        import('../mcp/run.js')
      ])
      const client = createChorusClient({
        baseUrl: url,
        ...(token !== undefined ? { token } : {}),
        timeoutMs: ms
      })
      await runMCPServer({ client, version, logLevel: opts.logLevel })
    })
}
