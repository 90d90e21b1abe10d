/**
 * Every setting of the agent, in one table: its path in the config file, its environment variable,
 * its flag, its type, its default and what it does. The loader, the `start` command's flags and the
 * README's table all come from here, so they cannot drift apart.
 *
 * Why it is long: it is one table of some 45 entries, each a few lines of data and its
 * description; split, it would no longer be the one list everything derives from.
 */

export type SettingKind = 'string' | 'int' | 'bool' | 'list' | 'multiaddrs' | 'peers' | 'enum'

export interface Setting {
  /** Dotted path in the config file, e.g. `api.port`. */
  path: string
  kind: SettingKind
  /** The default value; `''` means "unset" for optional paths. */
  default: string | number | boolean | string[]
  doc: string
  /** Allowed values for `enum`. */
  values?: readonly string[]
  /** Inclusive bounds for `int`. */
  min?: number
  max?: number
  /**
   * Earlier names of the setting (dotted paths), still accepted in the file, as `CHORUS_*`
   * variables and as flags, with a deprecation warning. A setting that sets a library option has
   * the option's name; these are the names it had before.
   */
  aliases?: readonly string[]
}

const MS_DAY = 24 * 60 * 60 * 1000

export const SETTINGS: readonly Setting[] = [
  {
    path: 'dataDir',
    kind: 'string',
    default: './.chorus',
    doc: 'Data directory (peer key, datastore, index, audit log, role keys, API token); relative to the working directory'
  },
  {
    path: 'role',
    kind: 'string',
    default: 'backend_developer',
    doc: 'The role this agent plays; its age identity is generated on first start'
  },
  {
    path: 'agentId',
    kind: 'string',
    default: '',
    doc: 'Agent name reported in status and `agent.json`; empty = `agent-` + the end of the peer id'
  },
  {
    path: 'capabilities',
    kind: 'list',
    default: ['ucxl-storage'],
    doc: 'Capabilities announced on the DHT (comma-separated in env)'
  },
  {
    path: 'listen',
    kind: 'multiaddrs',
    default: ['/ip4/127.0.0.1/tcp/0'],
    doc: 'libp2p listen multiaddrs (loopback, ephemeral port by default); `/ip4/0.0.0.0/tcp/4001` listens on every interface, `.../tcp/4002/ws` adds WebSockets, `/p2p-circuit` reserves a relay slot from the start'
  },
  {
    path: 'announce',
    kind: 'multiaddrs',
    default: [],
    doc: 'Addresses announced to peers instead of the listen addresses (e.g. `/dns4/agent1.example.com/tcp/4001` for a multi-host team); empty = the listen addresses'
  },
  {
    path: 'bootstrapPeers',
    kind: 'peers',
    default: [],
    doc: 'Bootstrap peers, multiaddrs ending in /p2p/<id>; the assignment file wins over this, this over env'
  },
  {
    path: 'assignmentFile',
    kind: 'string',
    default: '',
    doc: 'Runtime assignment file (YAML/JSON `{ bootstrapPeers: [...] }`), re-read on SIGHUP; empty = `<dataDir>/assignment.yaml` (used when it exists)'
  },
  {
    path: 'joinStaggerMs',
    kind: 'int',
    default: 2000,
    min: 0,
    max: 600_000,
    doc: 'Random delay up to this many ms before bootstrapping, against a thundering herd'
  },
  {
    path: 'rolesFile',
    kind: 'string',
    default: '',
    doc: 'Roles file (YAML/JSON) adding or overriding roles; re-read on SIGHUP'
  },
  {
    path: 'keys.dir',
    kind: 'string',
    default: '',
    doc: "Directory of this agent's role identities (0600); empty = `<dataDir>/keys`"
  },
  {
    path: 'keys.recipients',
    kind: 'list',
    default: [],
    doc: 'Recipients files (YAML/JSON `{ role: [age1...] }`) giving the public keys of the other roles; re-read on SIGHUP'
  },
  {
    path: 'keys.generate',
    kind: 'bool',
    default: true,
    doc: "Generate an identity for the agent's role on first start when none is held"
  },
  {
    path: 'team.dir',
    kind: 'string',
    default: '',
    doc: "Directory of this agent's team files: `team.json` (team id and root-signed manifest), `certificate` (its member certificate), `member.key` (its own age key); empty = `<dataDir>/team`"
  },
  {
    path: 'team.root',
    kind: 'string',
    default: '',
    doc: "The team's public root key (its team id, base64url), which every agent of a team is configured with; the agent refuses a `team.json` of another team; empty = the one in `team.json`"
  },
  {
    path: 'team.embedded',
    kind: 'bool',
    default: true,
    doc: 'With no team configured, make a team of its own on first start (its root key in `team.dir`), so that one agent works at once; a team of several agents uses `chorus-node team init` and `team admit` instead'
  },
  { path: 'dht.protocolPrefix', kind: 'string', default: '/CHORUS', doc: 'libp2p protocol prefix' },
  {
    path: 'dht.mode',
    kind: 'enum',
    values: ['server', 'client', 'auto'],
    default: 'auto',
    doc: 'Kademlia mode; `auto` is a server while members reach this agent directly and a client (with a reservation on a member relay) once a member sees it through a NAT'
  },
  {
    path: 'dht.relayService',
    kind: 'bool',
    default: true,
    doc: 'Offer circuit relay v2 to admitted members of the team while this agent is reachable (reservations from anyone else are refused)'
  },
  {
    path: 'dht.relayClient',
    kind: 'bool',
    default: true,
    doc: 'Dial over relays, and behind a NAT reserve a slot on a member relay and announce its `/p2p-circuit` address'
  },
  {
    path: 'dht.holePunching',
    kind: 'bool',
    default: true,
    doc: 'Upgrade relayed connections to direct ones (DCUtR hole punching)'
  },
  {
    path: 'dht.autoNAT',
    kind: 'bool',
    default: true,
    doc: 'Ask peers to dial back public addresses (libp2p AutoNAT; private addresses are judged by what members observe)'
  },
  {
    path: 'dht.upnp',
    kind: 'bool',
    default: false,
    doc: 'Map the listen port on the gateway with UPnP (home routers); off by default'
  },
  {
    path: 'dht.bootstrapTimeout',
    aliases: ['dht.bootstrapTimeoutMs'],
    kind: 'int',
    default: 30_000,
    min: 100,
    max: 600_000,
    doc: 'Bootstrap timeout, in ms'
  },
  {
    path: 'dht.discoveryInterval',
    aliases: ['dht.discoveryIntervalMs'],
    kind: 'int',
    default: 60_000,
    min: 100,
    max: MS_DAY,
    doc: 'Peer discovery interval, in ms'
  },
  {
    path: 'dht.autoBootstrapInterval',
    aliases: ['dht.autoBootstrapIntervalMs'],
    kind: 'int',
    default: 30_000,
    min: 100,
    max: MS_DAY,
    doc: 'Auto-bootstrap retry interval while not connected, in ms'
  },
  {
    path: 'dht.peerCleanupInterval',
    aliases: ['dht.peerCleanupIntervalMs'],
    kind: 'int',
    default: 300_000,
    min: 100,
    max: MS_DAY,
    doc: 'Known-peer cleanup interval, in ms (entries older than 1 h are dropped)'
  },
  {
    path: 'dht.pskFile',
    kind: 'string',
    default: '',
    doc: 'Private-network pre-shared key file (libp2p pnet); empty = public network'
  },
  {
    path: 'storage.cacheTTL',
    aliases: ['storage.cacheTtlMs'],
    kind: 'int',
    default: 600_000,
    min: 0,
    max: MS_DAY,
    doc: 'Decrypted-content cache time to live, in ms'
  },
  {
    path: 'storage.cacheCleanupInterval',
    aliases: ['storage.cacheCleanupIntervalMs'],
    kind: 'int',
    default: 300_000,
    min: 100,
    max: MS_DAY,
    doc: 'Cache cleanup interval, in ms'
  },
  {
    path: 'storage.cacheMaxBytes',
    kind: 'int',
    default: 16_777_216,
    min: 65_536,
    max: 4_294_967_296,
    doc: 'Most bytes the decrypted-content cache holds (plaintext, metadata and key of each entry); a writer caches what it stores, so this is how much its memory grows with the records it writes'
  },
  {
    path: 'storage.maxContentBytes',
    kind: 'int',
    default: 1_048_576,
    min: 1,
    max: 64 * 1_048_576,
    doc: 'Largest plaintext accepted by a store'
  },
  {
    path: 'storage.writeQuorum',
    kind: 'int',
    default: 2,
    min: 0,
    max: 20,
    doc: 'Peers that must acknowledge a store before it is acknowledged (this node holds it too, so 2 + 1 = a replication factor of 3); capped at the connected peers'
  },
  {
    path: 'storage.retrieveConsistency',
    aliases: ['storage.readConsistency'],
    kind: 'enum',
    values: ['closest', 'network', 'local-first'],
    default: 'closest',
    doc: 'How a latest (`*^`) read on a cache miss asks the network: the closest peers, the whole query path, or the local copy first'
  },
  {
    path: 'storage.storeTimeout',
    aliases: ['storage.writeTimeoutMs'],
    kind: 'int',
    default: 30_000,
    min: 100,
    max: 600_000,
    doc: 'Timeout of one store (until the write quorum holds it), in ms'
  },
  {
    path: 'storage.retrieveTimeout',
    aliases: ['storage.readTimeoutMs'],
    kind: 'int',
    default: 30_000,
    min: 100,
    max: 600_000,
    doc: 'Timeout of one retrieve on a cache miss, in ms'
  },
  {
    path: 'storage.auditLogging',
    kind: 'bool',
    default: true,
    doc: 'Append every store, retrieve, list and search to the signed audit log (`<dataDir>/storage/audit.log`); off, nothing is appended and `audit verify` reports it off'
  },
  {
    path: 'replication.replicationFactor',
    aliases: ['replication.factor'],
    kind: 'int',
    default: 3,
    min: 1,
    max: 20,
    doc: 'Target number of holders'
  },
  {
    path: 'replication.reprovideInterval',
    aliases: ['replication.reprovideIntervalMs'],
    kind: 'int',
    default: 12 * 60 * 60 * 1000,
    min: 100,
    max: 7 * MS_DAY,
    doc: 'Reprovide and republish interval, in ms'
  },
  {
    path: 'replication.cleanupInterval',
    aliases: ['replication.cleanupIntervalMs'],
    kind: 'int',
    default: 60 * 60 * 1000,
    min: 100,
    max: 7 * MS_DAY,
    doc: 'Provider-record cleanup interval, in ms'
  },
  {
    path: 'replication.repairInterval',
    aliases: ['replication.repairIntervalMs'],
    kind: 'int',
    default: 60_000,
    min: 100,
    max: MS_DAY,
    doc: 'How often replication health is checked and repaired, in ms'
  },
  {
    path: 'replication.providerTTL',
    aliases: ['replication.providerTtlMs'],
    kind: 'int',
    default: MS_DAY,
    min: 1000,
    max: 30 * MS_DAY,
    doc: 'Provider record time to live, in ms'
  },
  {
    path: 'replication.maxProvidersPerKey',
    kind: 'int',
    default: 10,
    min: 1,
    max: 100,
    doc: 'Most providers tracked per key'
  },
  {
    path: 'replication.maxConcurrentReplications',
    aliases: ['replication.maxConcurrent'],
    kind: 'int',
    default: 5,
    min: 1,
    max: 100,
    doc: 'Most concurrent replications'
  },
  {
    path: 'replication.enableAutoReplication',
    aliases: ['replication.autoReplicate'],
    kind: 'bool',
    default: true,
    doc: 'Replicate new content at once'
  },
  {
    path: 'replication.enableReprovide',
    aliases: ['replication.reprovide'],
    kind: 'bool',
    default: true,
    doc: 'Reprovide/republish periodically'
  },
  {
    path: 'replication.maxPinnedBytes',
    kind: 'int',
    default: 8_589_934_592,
    min: 1_048_576,
    max: 2 ** 50,
    doc: 'Most bytes of records this node keeps because other peers pushed them, all peers together: the disk it gives the team (each peer also has a quota of 1 GiB); over it pushes are refused'
  },
  {
    path: 'hybrid.probeInterval',
    aliases: ['hybrid.healthCheckIntervalMs'],
    kind: 'int',
    default: 10_000,
    min: 100,
    max: MS_DAY,
    doc: 'Health probe interval of the network backend, in ms'
  },
  {
    path: 'hybrid.failureThreshold',
    kind: 'int',
    default: 3,
    min: 1,
    max: 1000,
    doc: 'Consecutive primary failures before failing over to the local backend'
  },
  {
    path: 'hybrid.operationTimeout',
    aliases: ['hybrid.operationTimeoutMs'],
    kind: 'int',
    default: 15_000,
    min: 100,
    max: 600_000,
    doc: 'Timeout of one primary (network) operation, in ms'
  },
  { path: 'api.host', kind: 'string', default: '127.0.0.1', doc: 'HTTP API bind address' },
  {
    path: 'api.port',
    kind: 'int',
    default: 0,
    min: 0,
    max: 65_535,
    doc: 'HTTP API port; 0 = ephemeral (the URL is written to `<dataDir>/agent.json` for the CLI)'
  },
  {
    path: 'api.bodyLimitBytes',
    kind: 'int',
    default: 2 * 1_048_576,
    min: 1024,
    max: 256 * 1_048_576,
    doc: 'Largest request body; larger gets 413'
  },
  {
    path: 'api.metricsAuth',
    kind: 'bool',
    default: false,
    doc: 'Require the bearer token on /metrics (off: Prometheus scrapes it on loopback; it carries no secret)'
  },
  {
    path: 'api.allowedHosts',
    kind: 'list',
    default: [],
    doc: 'Host names a request may be addressed to besides IP addresses and localhost (the Host header is checked against DNS rebinding; comma-separated in env)'
  },
  {
    path: 'log.level',
    kind: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    doc: 'Log level (JSON logs on stdout); reloaded on SIGHUP'
  },
  {
    path: 'shutdownTimeoutMs',
    kind: 'int',
    default: 15_000,
    min: 100,
    max: 600_000,
    doc: 'Time allowed for an orderly shutdown before the process exits anyway'
  }
]

/** `api.bodyLimitBytes` -> `CHORUS_API_BODY_LIMIT_BYTES`. */
export function envName(path: string): string {
  return `CHORUS_${path
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()}`
}

/** `api.bodyLimitBytes` -> `--api-body-limit-bytes`. */
export function flagName(path: string): string {
  return `--${path
    .replace(/\./g, '-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()}`
}

/** A deprecated name of a setting: its dotted path, env variable and flag, and the setting. */
export interface SettingAlias {
  path: string
  setting: Setting
}

/** Every deprecated name (see {@link Setting.aliases}) by its dotted path. */
export const SETTING_ALIASES: ReadonlyMap<string, SettingAlias> = new Map(
  SETTINGS.flatMap((setting) => (setting.aliases ?? []).map((path) => [path, { path, setting }] as const))
)

/** Environment variables read by the CLI and loader that are not settings. */
export const EXTRA_ENV = {
  CHORUS_CONFIG: 'Path of the config file (same as --config)',
  CHORUS_AGENT_URL: 'CLI: URL of the agent API (default: from `<dataDir>/agent.json`)',
  CHORUS_API_TOKEN: 'CLI: bearer token (default: `<dataDir>/api-token`)'
} as const

function formatDefault(s: Setting): string {
  const d = s.default
  if (d === '') return '(unset)'
  // Lists as the environment writes them (comma-separated).
  if (Array.isArray(d)) return d.length === 0 ? '`[]`' : `\`${d.join(',')}\``
  return `\`${String(d)}\``
}

const TABLE_HEADER = '| setting (file) | env | flag | default | what |'

/** The README's settings table (Markdown), one row per setting, in table order. */
export function settingsMarkdownTable(): string {
  const rows = SETTINGS.map((s) => {
    const values = s.values === undefined ? '' : ` (${s.values.join(', ')})`
    const formerly =
      s.aliases === undefined || s.aliases.length === 0
        ? ''
        : ` Formerly ${s.aliases.map((a) => `\`${a}\` (\`${envName(a)}\`, \`${flagName(a)}\`)`).join(', ')}, still accepted.`
    return `| \`${s.path}\` | \`${envName(s.path)}\` | \`${flagName(s.path)}\` | ${formatDefault(s)} | ${s.doc}${values}${formerly} |`
  })
  return [TABLE_HEADER, '|---|---|---|---|---|', ...rows].join('\n')
}

/**
 * `markdown` (the README) with its settings table, from its header line to the last `|` line
 * after it, replaced by `settingsMarkdownTable()`. Throws when it has no settings table.
 */
export function withSettingsTable(markdown: string): string {
  const lines = markdown.split('\n')
  const start = lines.findIndex((l) => l.startsWith(TABLE_HEADER))
  if (start < 0) throw new Error(`no settings table (a line starting "${TABLE_HEADER}")`)
  let end = start
  while (end < lines.length && lines[end]?.startsWith('|')) end++
  lines.splice(start, end - start, ...settingsMarkdownTable().split('\n'))
  return lines.join('\n')
}
