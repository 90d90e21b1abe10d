/**
 * `chorus-node mcp` over stdio, driven by the MCP SDK's own Client and StdioClientTransport,
 * against two real agent processes: an MCP client stores a decision through the writer's MCP
 * server and the reader's MCP server reads, lists, searches it and shows its replication; a
 * refused call is an MCP error result carrying the agent's code, and the server goes on serving.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AgentProcess,
  BIN_PATH,
  dialAddress,
  fastEnv,
  makeTeam,
  startAgentProcess,
  stopAllAgents,
  type Team,
  waitFor
} from './helpers.js'

type ToolResult = {
  isError?: boolean
  content: Array<{ type: string; text?: string }>
  structuredContent?: Record<string, unknown>
}

const ADDRESS = 'ucxl://agent001:backend_developer@mcp-project:task-7/*^/decision'
const DECISION = {
  task: 'task-7: choose the cache',
  decision: 'use an LRU cache bounded in bytes',
  rationale: 'entries vary in size; a count bound lets memory grow unbounded',
  author: { agent: 'agent001', role: 'backend_developer' },
  timestamp: '2026-01-02T03:04:05Z'
}

/** An MCP client connected to `chorus-node mcp` for the agent of `dataDir`; stderr collected. */
async function mcpClient(dataDir: string): Promise<{ client: Client; stderr: () => string }> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN_PATH, 'mcp', '--data-dir', dataDir],
    env,
    stderr: 'pipe'
  })
  let stderr = ''
  transport.stderr?.on('data', (d) => {
    stderr += d
  })
  const client = new Client({ name: 'chorus-test', version: '1.0.0' })
  await client.connect(transport)
  return { client, stderr: () => stderr }
}

const call = (client: Client, name: string, args: Record<string, unknown>) =>
  client.callTool({ name, arguments: args }) as Promise<ToolResult>

describe('chorus-node mcp (stdio) against real agents', () => {
  let team: Team
  let writer: AgentProcess
  let reader: AgentProcess
  const clients: Client[] = []
  let writerMcp: Awaited<ReturnType<typeof mcpClient>>
  let readerMcp: Awaited<ReturnType<typeof mcpClient>>

  beforeAll(async () => {
    team = await makeTeam(['backend_developer', 'senior_architect'])
    const env = (role: string, peers: string[] = []) =>
      fastEnv({ CHORUS_ROLE: role, CHORUS_LOG_LEVEL: 'warn', CHORUS_BOOTSTRAP_PEERS: peers.join(',') })
    writer = await startAgentProcess({
      name: 'backend_developer',
      dataDir: team.dataDir('backend_developer'),
      env: env('backend_developer')
    })
    reader = await startAgentProcess({
      name: 'senior_architect',
      dataDir: team.dataDir('senior_architect'),
      env: env('senior_architect', [dialAddress(writer.info)])
    })
    const joined = await waitFor(async () => {
      const s = await writer.api<{ network: { connectedPeers: number } }>('GET', '/v1/status')
      return s.body.network.connectedPeers >= 1
    }, 60_000)
    expect(joined, 'the agents found each other').toBe(true)
    writerMcp = await mcpClient(writer.dataDir)
    readerMcp = await mcpClient(reader.dataDir)
    clients.push(writerMcp.client, readerMcp.client)
  }, 240_000)

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
    await Promise.all([writer?.stop(), reader?.stop()])
    await stopAllAgents()
    team?.cleanup()
  }, 60_000)

  it('lists the six tools with JSON Schemas for their inputs', async () => {
    const { tools } = await writerMcp.client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['list', 'peers', 'replication_status', 'retrieve', 'search', 'store'].sort()
    )
    const store = tools.find((t) => t.name === 'store')!
    expect(store.inputSchema.type).toBe('object')
    expect(store.inputSchema.required).toEqual(expect.arrayContaining(['address', 'content']))
    expect(store.annotations?.readOnlyHint).toBe(false)
    expect(tools.find((t) => t.name === 'retrieve')!.annotations?.readOnlyHint).toBe(true)
  })

  it("stores a decision through one agent's MCP server; another agent's MCP server reads it", async () => {
    const stored = await call(writerMcp.client, 'store', {
      address: ADDRESS,
      content: JSON.stringify(DECISION),
      contentType: 'decision'
    })
    expect(stored.isError, JSON.stringify(stored)).toBeFalsy()
    expect(stored.structuredContent).toMatchObject({
      metadata: { version: 1, contentType: 'decision', creatorRole: 'backend_developer' }
    })

    const read = await waitFor(
      async () => {
        const r = await call(readerMcp.client, 'retrieve', { address: ADDRESS, fresh: true })
        return r.isError ? undefined : r
      },
      60_000,
      1000
    )
    expect(read, 'the reader read it').toBeDefined()
    const content = JSON.parse(String(read!.structuredContent?.content)) as typeof DECISION
    expect(content).toMatchObject({ task: DECISION.task, decision: DECISION.decision })
    expect(JSON.parse(read!.content[0]!.text!)).toEqual(read!.structuredContent)

    const listed = await call(readerMcp.client, 'search', { project: 'mcp-project' })
    expect(listed.isError).toBeFalsy()
    expect(listed.structuredContent).toMatchObject({ count: 1 })
    const mine = await call(writerMcp.client, 'list', { role: 'backend_developer' })
    expect((mine.structuredContent as { count: number }).count).toBeGreaterThanOrEqual(1)

    const replication = await call(writerMcp.client, 'replication_status', { address: ADDRESS })
    expect(replication.isError).toBeFalsy()
    expect(replication.structuredContent).toHaveProperty('actualReplicas')
    const peers = await call(writerMcp.client, 'peers', {})
    expect(peers.structuredContent).toMatchObject({ count: 1 })
    expect((peers.structuredContent as { peers: Array<{ id: string }> }).peers[0]!.id).toBe(
      reader.info.peerId
    )
  })

  it('a refused call is an MCP error result with the agent code, and the server goes on', async () => {
    // the reader's role may not write the writer's address
    const refused = await call(readerMcp.client, 'store', { address: ADDRESS, content: 'not yours' })
    expect(refused.isError).toBe(true)
    const error = (refused.structuredContent as { error: { code: string; message: string } }).error
    expect(error.code).toMatch(/^UCXL-4\d\d-[A-Z_]+$/)
    expect(refused.content[0]!.text).toContain(error.code)

    // a decision that is not one: 400 naming the field
    const invalid = await call(writerMcp.client, 'store', {
      address: ADDRESS,
      content: JSON.stringify({ ...DECISION, rationale: '' }),
      contentType: 'decision'
    })
    expect(invalid.isError).toBe(true)
    expect(invalid.structuredContent).toMatchObject({ error: { code: 'UCXL-400-INVALID_DECISION' } })

    // input the tool's schema refuses never reaches the agent
    const malformed = await readerMcp.client.callTool({ name: 'retrieve', arguments: { address: 42 } }).then(
      (r) => r as ToolResult,
      (e: unknown) => e
    )
    expect((malformed as ToolResult).isError ?? (malformed as Error).message !== undefined).toBe(true)

    // still serving, and nothing but the protocol went to stdout (the client parsed every line)
    const after = await call(readerMcp.client, 'peers', {})
    expect(after.isError).toBeFalsy()
    expect(readerMcp.stderr()).toMatch(/tool call refused/)
    expect(readerMcp.stderr()).not.toContain(reader.token)
  })
})
