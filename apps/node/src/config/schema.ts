import { isUnsafeKey } from '@chorus/common'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { SETTING_ALIASES, SETTINGS, type Setting } from './settings.js'

/** The validated configuration the agent runs on. */
export interface NodeConfig {
  dataDir: string
  role: string
  agentId: string
  capabilities: string[]
  listen: string[]
  announce: string[]
  bootstrapPeers: string[]
  assignmentFile: string
  joinStaggerMs: number
  rolesFile: string
  keys: { dir: string; recipients: string[]; generate: boolean }
  team: { dir: string; root: string; embedded: boolean }
  dht: {
    protocolPrefix: string
    mode: 'server' | 'client' | 'auto'
    /** In ms. */
    bootstrapTimeout: number
    /** In ms. */
    discoveryInterval: number
    /** In ms. */
    autoBootstrapInterval: number
    /** In ms. */
    peerCleanupInterval: number
    pskFile: string
    relayService: boolean
    relayClient: boolean
    holePunching: boolean
    autoNAT: boolean
    upnp: boolean
    /** @deprecated the same as `bootstrapTimeout` */
    readonly bootstrapTimeoutMs?: number
    /** @deprecated the same as `discoveryInterval` */
    readonly discoveryIntervalMs?: number
    /** @deprecated the same as `autoBootstrapInterval` */
    readonly autoBootstrapIntervalMs?: number
    /** @deprecated the same as `peerCleanupInterval` */
    readonly peerCleanupIntervalMs?: number
  }
  storage: {
    /** In ms. */
    cacheTTL: number
    /** In ms. */
    cacheCleanupInterval: number
    /** Bytes. */
    cacheMaxBytes: number
    maxContentBytes: number
    writeQuorum: number
    retrieveConsistency: 'closest' | 'network' | 'local-first'
    /** In ms. */
    storeTimeout: number
    /** In ms. */
    retrieveTimeout: number
    auditLogging: boolean
    /** @deprecated the same as `cacheTTL` */
    readonly cacheTtlMs?: number
    /** @deprecated the same as `cacheCleanupInterval` */
    readonly cacheCleanupIntervalMs?: number
    /** @deprecated the same as `retrieveConsistency` */
    readonly readConsistency?: 'closest' | 'network' | 'local-first'
    /** @deprecated the same as `storeTimeout` */
    readonly writeTimeoutMs?: number
    /** @deprecated the same as `retrieveTimeout` */
    readonly readTimeoutMs?: number
  }
  replication: {
    replicationFactor: number
    /** In ms. */
    reprovideInterval: number
    /** In ms. */
    cleanupInterval: number
    /** In ms. */
    repairInterval: number
    /** In ms. */
    providerTTL: number
    maxProvidersPerKey: number
    maxConcurrentReplications: number
    enableAutoReplication: boolean
    enableReprovide: boolean
    /** Bytes. */
    maxPinnedBytes: number
    /** @deprecated the same as `replicationFactor` */
    readonly factor?: number
    /** @deprecated the same as `reprovideInterval` */
    readonly reprovideIntervalMs?: number
    /** @deprecated the same as `cleanupInterval` */
    readonly cleanupIntervalMs?: number
    /** @deprecated the same as `repairInterval` */
    readonly repairIntervalMs?: number
    /** @deprecated the same as `providerTTL` */
    readonly providerTtlMs?: number
    /** @deprecated the same as `maxConcurrentReplications` */
    readonly maxConcurrent?: number
    /** @deprecated the same as `enableAutoReplication` */
    readonly autoReplicate?: boolean
    /** @deprecated the same as `enableReprovide` */
    readonly reprovide?: boolean
  }
  hybrid: {
    /** In ms. */
    probeInterval: number
    failureThreshold: number
    /** In ms. */
    operationTimeout: number
    /** @deprecated the same as `probeInterval` */
    readonly healthCheckIntervalMs?: number
    /** @deprecated the same as `operationTimeout` */
    readonly operationTimeoutMs?: number
  }
  api: { host: string; port: number; bodyLimitBytes: number; metricsAuth: boolean; allowedHosts: string[] }
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  shutdownTimeoutMs: number
}

const NAME = /^[A-Za-z0-9_-]+$/

/** A multiaddr that parses; with `needsPeer`, it must also carry a /p2p/<id> component. */
export function checkMultiaddr(value: string, needsPeer: boolean): string | undefined {
  let components: Array<{ name: string }>
  try {
    components = multiaddr(value).getComponents()
  } catch (err) {
    return `not a valid multiaddr (${(err as Error).message})`
  }
  if (needsPeer && !components.some((c) => c.name === 'p2p')) {
    return 'a bootstrap peer needs a /p2p/<peer id> component'
  }
  return undefined
}

function multiaddrList(needsPeer: boolean): z.ZodType<string[]> {
  return z.array(
    z.string().superRefine((value, ctx) => {
      const problem = checkMultiaddr(value, needsPeer)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
    })
  )
}

function leafSchema(s: Setting): z.ZodType {
  switch (s.kind) {
    case 'string':
      if (s.path === 'role' || s.path === 'agentId') {
        return s.path === 'role'
          ? z.string().regex(NAME, 'must be letters, digits, _ or -')
          : z.string().regex(/^[A-Za-z0-9_-]*$/, 'must be letters, digits, _ or -')
      }
      return z.string()
    case 'int':
      return z
        .number()
        .int()
        .min(s.min ?? Number.MIN_SAFE_INTEGER)
        .max(s.max ?? Number.MAX_SAFE_INTEGER)
    case 'bool':
      return z.boolean()
    case 'list':
      return s.path === 'capabilities'
        ? z.array(z.string().regex(NAME, 'must be letters, digits, _ or -'))
        : z.array(z.string().min(1))
    case 'multiaddrs':
      return multiaddrList(false)
    case 'peers':
      return multiaddrList(true)
    case 'enum':
      return z.enum(s.values as [string, ...string[]])
  }
}

interface Tree {
  [key: string]: Tree | z.ZodType
}

function buildSchema(): z.ZodType<NodeConfig> {
  const root: Tree = {}
  for (const s of SETTINGS) {
    const parts = s.path.split('.')
    let node = root
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {}
      node = node[part] as Tree
    }
    node[parts.at(-1)!] = leafSchema(s)
  }
  const toZod = (tree: Tree): z.ZodType =>
    z.strictObject(
      Object.fromEntries(
        Object.entries(tree).map(([k, v]) => [k, v instanceof z.ZodType ? v : toZod(v as Tree)])
      )
    )
  return toZod(root) as z.ZodType<NodeConfig>
}

export const configSchema = buildSchema()

/** The defaults as a nested object (every leaf set). */
export function defaultConfig(): NodeConfig {
  const out: Record<string, unknown> = {}
  for (const s of SETTINGS) setPath(out, s.path, structuredClone(s.default))
  return out as unknown as NodeConfig
}

/** Sets a dotted path; a segment that would reach a prototype (`__proto__`...) is never followed. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  if (parts.some(isUnsafeKey)) return
  let node = target
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(node, part) || typeof node[part] !== 'object' || node[part] === null) node[part] = {}
    node = node[part] as Record<string, unknown>
  }
  node[parts.at(-1)!] = value
}

/** Reads a dotted path through own properties only. */
export function getPath(source: unknown, path: string): unknown {
  let node = source
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

/**
 * `config` with each deprecated name (`storage.readTimeoutMs`...) readable as a getter of the
 * setting it names, so that code written against the old names keeps working. The getters are
 * not enumerable: JSON, spreads and `--print-config` show the current names only.
 */
export function withDeprecatedNames(config: NodeConfig): NodeConfig {
  for (const { path, setting } of SETTING_ALIASES.values()) {
    const parts = path.split('.')
    const parent = getPath(config, parts.slice(0, -1).join('.'))
    if (parts.length === 1 || typeof parent !== 'object' || parent === null) continue
    const target = setting.path.split('.')
    if (target.slice(0, -1).join('.') !== parts.slice(0, -1).join('.')) continue
    const leaf = target.at(-1) as string
    Object.defineProperty(parent, parts.at(-1) as string, {
      get: () => (parent as Record<string, unknown>)[leaf],
      enumerable: false,
      configurable: true
    })
  }
  return config
}
