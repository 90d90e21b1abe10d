/**
 * The MCP tools: store, retrieve, list, search, replication status and peers, each a call of the
 * local agent's HTTP API through `@chorus/client`. Inputs are zod shapes (the SDK turns them into
 * the tools' JSON Schemas and validates calls with them), bounded as the API bounds them.
 */
import type { ChorusClient } from '@chorus/client'
import { z } from 'zod'

const address = z
  .string()
  .min(1)
  .max(2048)
  .describe('a UCXL address, e.g. ucxl://agent001:backend_developer@project:task/*^/decision')
const name = z.string().min(1).max(512)
const limit = z.number().int().min(1).max(10_000).optional().describe('most entries (default 100)')
const contentType = z
  .string()
  .regex(/^[A-Za-z0-9_.+/-]{1,64}$/)
  .describe('decision (a decision record, JSON), text/plain, application/json, ...')
const peerName = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/)

/** What a tool does with its validated input: a call of the agent's API. */
type Run<I> = (client: ChorusClient, input: I, signal: AbortSignal) => Promise<unknown>

export interface ToolDefinition<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string
  title: string
  description: string
  input: S
  /** Reads change nothing; a store writes a new version each call. */
  readOnly: boolean
  run: Run<z.infer<z.ZodObject<S>>>
}

const tool = <S extends z.ZodRawShape>(t: ToolDefinition<S>): ToolDefinition<S> => t

/** Drops undefined fields (the API's query strings take none). */
const defined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T

export const TOOLS = [
  tool({
    name: 'store',
    title: 'Store content',
    description:
      "Store content at a UCXL address as this agent's role: encrypted for the roles allowed to read it, signed, replicated. Each call writes the next version. The address's role must be this agent's.",
    input: {
      address,
      content: z
        .string()
        .max(1_048_576)
        .describe('the content (UTF-8 text, or base64 with encoding "base64")'),
      contentType: contentType.optional(),
      encoding: z.enum(['utf8', 'base64']).optional().describe('how content is given (default utf8)')
    },
    readOnly: false,
    run: (client, i, signal) =>
      client.store(
        {
          address: i.address,
          content: i.encoding === 'base64' ? new Uint8Array(Buffer.from(i.content, 'base64')) : i.content,
          ...(i.contentType !== undefined ? { contentType: i.contentType } : {})
        },
        { signal }
      )
  }),
  tool({
    name: 'retrieve',
    title: 'Retrieve content',
    description:
      'Read and decrypt the content at a UCXL address (temporal segments: *^ latest, *~N version N, ~~N N back). Refused (UCXL-403-ACCESS_DENIED) when no role this agent holds may read it.',
    input: {
      address,
      encoding: z.enum(['utf8', 'base64']).optional().describe('how the content is returned (default utf8)'),
      fresh: z.boolean().optional().describe('bypass the cache and read from the network'),
      from: z.number().int().min(1).optional().describe('the version a forward segment ^^N counts from')
    },
    readOnly: true,
    run: (client, { address, ...query }, signal) => client.retrieve(address, defined(query), { signal })
  }),
  tool({
    name: 'list',
    title: 'List content',
    description: 'Content this agent knows of (its local index), by creator role; every role without one.',
    input: { role: name.optional().describe('creator role'), limit },
    readOnly: true,
    run: (client, input, signal) => client.list(defined(input), { signal })
  }),
  tool({
    name: 'search',
    title: 'Search content',
    description:
      "Search this agent's index by address fields or an address pattern (any components, * and ** path segments), content type, creation time and decisions' own fields.",
    input: {
      agent: name.optional(),
      role: name.optional(),
      project: name.optional(),
      task: name.optional(),
      address: address.optional().describe('an address pattern'),
      contentType: contentType.optional(),
      decisionTask: name.optional(),
      decisionAgent: name.optional(),
      decisionRole: name.optional(),
      allVersions: z.boolean().optional().describe('every version, not only the newest per address'),
      createdAfter: z.iso.datetime().optional(),
      createdBefore: z.iso.datetime().optional(),
      limit
    },
    readOnly: true,
    run: (client, input, signal) => client.search(defined(input), { signal })
  }),
  tool({
    name: 'replication_status',
    title: 'Replication status',
    description:
      'Replication health of one address (replicas, live holders, providers), or the overall figures without one.',
    input: { address: address.optional() },
    readOnly: true,
    run: (client, { address }, signal) => client.replication(address, { signal })
  }),
  tool({
    name: 'peers',
    title: 'Peers',
    description:
      'The peers this agent is connected to (with roles and capabilities), or those that announced a role or a capability on the DHT.',
    input: {
      role: peerName.optional().describe('find the peers that announced this role'),
      capability: peerName.optional().describe('find the peers that announced this capability')
    },
    readOnly: true,
    run: (client, { role, capability }, signal) =>
      role !== undefined
        ? client.findPeers('role', role, { signal })
        : capability !== undefined
          ? client.findPeers('capability', capability, { signal })
          : client.peers({ signal })
  })
]
