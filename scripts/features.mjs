/**
 * The feature table of the root README: every operation of the reference CHORUS DHT package
 * (docs: the Go package's `pkg/dht`), with the TypeScript package function, the agent's HTTP route
 * and the `chorus-node` command that do it. `tests/features.test.ts` checks every row against the
 * code (the function is exported by its package, the route is registered on the API server, the
 * command and option exist in the CLI) and that the README block is `featureTable()`;
 * `node scripts/readme-docs.mjs` writes it.
 *
 * A row: `fn` is [package, export] or [package, export, member]; `route` is [method, url] plus an
 * optional shown suffix (a query parameter); `cli` is [command path] or [command path, option];
 * `how` says how the agent does it when no route or command does (at start, in the background).
 */

/** @typedef {{ area: string, op: string, fn: [string, string, string?], route?: [string, string, string?], cli?: [string, string?], how?: string }} Feature */

/** @type {Feature[]} */
export const FEATURES = [
  // LibP2PDHT
  {
    area: 'DHT',
    op: 'NewLibP2PDHT',
    fn: ['@chorus/dht', 'createLibP2PDHT'],
    cli: ['start'],
    how: 'the agent at start'
  },
  {
    area: 'DHT',
    op: 'Bootstrap',
    fn: ['@chorus/dht', 'LibP2PDHT', 'bootstrap'],
    cli: ['start'],
    how: 'staggered join at start and on SIGHUP'
  },
  {
    area: 'DHT',
    op: 'IsBootstrapped',
    fn: ['@chorus/dht', 'LibP2PDHT', 'isBootstrapped'],
    route: ['GET', '/readyz'],
    cli: ['status']
  },
  {
    area: 'DHT',
    op: 'PutValue',
    fn: ['@chorus/dht', 'LibP2PDHT', 'putValue'],
    route: ['POST', '/v1/content'],
    cli: ['put'],
    how: 'under every store'
  },
  {
    area: 'DHT',
    op: 'GetValue',
    fn: ['@chorus/dht', 'LibP2PDHT', 'getValue'],
    route: ['GET', '/v1/content'],
    cli: ['get'],
    how: 'under every read'
  },
  {
    area: 'DHT',
    op: 'Provide',
    fn: ['@chorus/dht', 'LibP2PDHT', 'provide'],
    route: ['POST', '/v1/content/announce'],
    cli: ['announce']
  },
  {
    area: 'DHT',
    op: 'FindProviders',
    fn: ['@chorus/dht', 'LibP2PDHT', 'findProviders'],
    route: ['GET', '/v1/content/peers'],
    cli: ['discover']
  },
  {
    area: 'DHT',
    op: 'RegisterPeer',
    fn: ['@chorus/dht', 'LibP2PDHT', 'registerPeer'],
    route: ['GET', '/v1/peers'],
    cli: ['peers'],
    how: 'from each peer’s announced info'
  },
  {
    area: 'DHT',
    op: 'AnnounceRole',
    fn: ['@chorus/dht', 'LibP2PDHT', 'announceRole'],
    cli: ['start', '--role'],
    how: 'at join, the `role` setting'
  },
  {
    area: 'DHT',
    op: 'AnnounceCapability',
    fn: ['@chorus/dht', 'LibP2PDHT', 'announceCapability'],
    cli: ['start', '--capabilities'],
    how: 'at join, the `capabilities` setting'
  },
  {
    area: 'DHT',
    op: 'FindPeersByRole',
    fn: ['@chorus/dht', 'LibP2PDHT', 'findPeersByRole'],
    route: ['GET', '/v1/peers/role/:role'],
    cli: ['peers', '--role']
  },
  {
    area: 'DHT',
    op: 'FindPeersByCapability',
    fn: ['@chorus/dht', 'LibP2PDHT', 'findPeersByCapability'],
    route: ['GET', '/v1/peers/capability/:capability'],
    cli: ['peers', '--capability']
  },
  {
    area: 'DHT',
    op: 'GetStats, GetDHTSize',
    fn: ['@chorus/dht', 'LibP2PDHT', 'getStats'],
    route: ['GET', '/v1/status'],
    cli: ['status']
  },
  {
    area: 'DHT',
    op: 'GetConnectedPeers',
    fn: ['@chorus/dht', 'LibP2PDHT', 'getConnectedPeers'],
    route: ['GET', '/v1/peers'],
    cli: ['peers']
  },
  {
    area: 'DHT',
    op: 'Close',
    fn: ['@chorus/dht', 'LibP2PDHT', 'close'],
    how: 'SIGINT/SIGTERM stops the agent'
  },
  // EncryptedDHTStorage
  {
    area: 'Encrypted storage',
    op: 'NewEncryptedDHTStorage',
    fn: ['@chorus/storage', 'createEncryptedStorage'],
    cli: ['start'],
    how: 'the agent at start'
  },
  {
    area: 'Encrypted storage',
    op: 'StoreUCXLContent',
    fn: ['@chorus/storage', 'EncryptedStorage', 'storeUCXLContent'],
    route: ['POST', '/v1/content'],
    cli: ['put']
  },
  {
    area: 'Encrypted storage',
    op: 'StoreUCXLContent of a decision (validated)',
    fn: ['@chorus/ucxl', 'validateDecision'],
    route: ['POST', '/v1/content', ' contentType=decision'],
    cli: ['put', '--content-type']
  },
  {
    area: 'Encrypted storage',
    op: 'RetrieveUCXLContent',
    fn: ['@chorus/storage', 'EncryptedStorage', 'retrieveUCXLContent'],
    route: ['GET', '/v1/content'],
    cli: ['get']
  },
  {
    area: 'Encrypted storage',
    op: 'RetrieveUCXLContent of `^^N` from a version',
    fn: ['@chorus/storage', 'EncryptedStorage', 'retrieveUCXLContent'],
    route: ['GET', '/v1/content', '?from=N'],
    cli: ['get', '--from']
  },
  {
    area: 'Encrypted storage',
    op: 'AnnounceContent',
    fn: ['@chorus/storage', 'EncryptedStorage', 'announceContent'],
    route: ['POST', '/v1/content/announce'],
    cli: ['announce']
  },
  {
    area: 'Encrypted storage',
    op: 'DiscoverContentPeers',
    fn: ['@chorus/storage', 'EncryptedStorage', 'discoverContentPeers'],
    route: ['GET', '/v1/content/peers'],
    cli: ['discover']
  },
  {
    area: 'Encrypted storage',
    op: 'ListContentByRole',
    fn: ['@chorus/storage', 'EncryptedStorage', 'listContentByRole'],
    route: ['GET', '/v1/list'],
    cli: ['ls', '--role']
  },
  {
    area: 'Encrypted storage',
    op: 'SearchContent',
    fn: ['@chorus/storage', 'EncryptedStorage', 'searchContent'],
    route: ['GET', '/v1/search'],
    cli: ['search']
  },
  {
    area: 'Encrypted storage',
    op: 'SearchContent by address pattern',
    fn: ['@chorus/storage', 'EncryptedStorage', 'searchContent'],
    route: ['GET', '/v1/search', '?address='],
    cli: ['search', '--address']
  },
  {
    area: 'Encrypted storage',
    op: 'SearchContent of decisions by their fields',
    fn: ['@chorus/storage', 'EncryptedStorage', 'searchContent'],
    route: ['GET', '/v1/search', '?decisionTask='],
    cli: ['search', '--decision-task']
  },
  {
    area: 'Encrypted storage',
    op: 'Every version of an address',
    fn: ['@chorus/storage', 'EncryptedStorage', 'searchContent'],
    route: ['GET', '/v1/versions'],
    cli: ['versions']
  },
  {
    area: 'Encrypted storage',
    op: 'Delete (a signed tombstone)',
    fn: ['@chorus/storage', 'EncryptedStorage', 'deleteUCXLContent'],
    route: ['DELETE', '/v1/content'],
    cli: ['rm']
  },
  {
    area: 'Encrypted storage',
    op: 'StartCacheCleanup, CleanupCache',
    fn: ['@chorus/storage', 'EncryptedStorage', 'startCacheCleanup'],
    how: 'the agent at start'
  },
  {
    area: 'Encrypted storage',
    op: 'invalidateCacheEntry',
    fn: ['@chorus/storage', 'EncryptedStorage', 'invalidateCache'],
    route: ['GET', '/v1/content', '?fresh=true'],
    cli: ['get', '--fresh']
  },
  {
    area: 'Encrypted storage',
    op: 'GetMetrics',
    fn: ['@chorus/storage', 'EncryptedStorage', 'getMetrics'],
    route: ['GET', '/metrics'],
    cli: ['status']
  },
  {
    area: 'Encrypted storage',
    op: 'Audit logging',
    fn: ['@chorus/storage', 'EncryptedStorage', 'verifyAuditLog'],
    route: ['GET', '/v1/audit/verify'],
    cli: ['audit verify']
  },
  // Age encryption
  {
    area: 'Encryption',
    op: 'EncryptUCXLContent',
    fn: ['@chorus/crypto', 'AgeCrypto', 'encryptUCXLContent'],
    route: ['POST', '/v1/content'],
    cli: ['put'],
    how: 'inside every store'
  },
  {
    area: 'Encryption',
    op: 'DecryptWithRole',
    fn: ['@chorus/crypto', 'AgeCrypto', 'decryptWithRole'],
    route: ['GET', '/v1/content'],
    cli: ['get'],
    how: 'inside every read'
  },
  {
    area: 'Encryption',
    op: 'CanDecryptContent, getDecryptableRoles',
    fn: ['@chorus/crypto', 'AgeCrypto', 'decryptableRoles'],
    route: ['POST', '/v1/content'],
    cli: ['put'],
    how: '`encryptedFor` of every store'
  },
  { area: 'Encryption', op: 'Role keys', fn: ['@chorus/crypto', 'createKeyring'], cli: ['keygen'] },
  // ReplicationManager
  {
    area: 'Replication',
    op: 'NewReplicationManager, DefaultReplicationConfig',
    fn: ['@chorus/replication', 'createReplicationManager'],
    cli: ['start'],
    how: 'the agent at start'
  },
  {
    area: 'Replication',
    op: 'AddContent',
    fn: ['@chorus/replication', 'ReplicationManager', 'addContent'],
    route: ['POST', '/v1/content'],
    cli: ['put'],
    how: 'after every store'
  },
  {
    area: 'Replication',
    op: 'RemoveContent',
    fn: ['@chorus/replication', 'ReplicationManager', 'removeContent'],
    route: ['DELETE', '/v1/content'],
    cli: ['rm'],
    how: 'through a delete: replication stops keeping the deleted versions alive (`retireContent`) and lets them expire'
  },
  {
    area: 'Replication',
    op: 'ProvideContent',
    fn: ['@chorus/replication', 'ReplicationManager', 'provideContent'],
    how: 'reprovide in the background'
  },
  {
    area: 'Replication',
    op: 'FindProviders (quality, distance)',
    fn: ['@chorus/replication', 'ReplicationManager', 'findProviders'],
    route: ['GET', '/v1/content/providers'],
    cli: ['providers']
  },
  {
    area: 'Replication',
    op: 'GetReplicationStatus',
    fn: ['@chorus/replication', 'ReplicationManager', 'getReplicationStatus'],
    route: ['GET', '/v1/replication', '?address='],
    cli: ['replication']
  },
  {
    area: 'Replication',
    op: 'GetMetrics',
    fn: ['@chorus/replication', 'ReplicationManager', 'getMetrics'],
    route: ['GET', '/v1/replication'],
    cli: ['replication']
  },
  // HybridDHT
  {
    area: 'Hybrid',
    op: 'NewHybridDHT',
    fn: ['@chorus/hybrid', 'createHybridDHT'],
    cli: ['start'],
    how: 'the agent at start'
  },
  {
    area: 'Hybrid',
    op: 'PutValue, GetValue with fallback',
    fn: ['@chorus/hybrid', 'HybridDHT', 'putValue'],
    route: ['POST', '/v1/content'],
    cli: ['put'],
    how: 'under every store and read'
  },
  {
    area: 'Hybrid',
    op: 'GetBackendHealth',
    fn: ['@chorus/hybrid', 'HybridDHT', 'getBackendHealth'],
    route: ['GET', '/v1/hybrid'],
    cli: ['backend']
  },
  {
    area: 'Hybrid',
    op: 'SwitchBackend',
    fn: ['@chorus/hybrid', 'HybridDHT', 'switchBackend'],
    route: ['POST', '/v1/hybrid/backend'],
    cli: ['backend']
  },
  // Configuration
  {
    area: 'Config',
    op: 'Config (DHT), ReplicationConfig, cache TTL',
    fn: ['@chorus/node', 'loadConfig'],
    cli: ['start', '--print-config'],
    how: 'file, CHORUS_* env, flags'
  }
]

const code = (s) => `\`${s}\``

/** The package-function cell: `Export.member` or `export`, and its package. */
export function fnCell(fn) {
  const [pkg, name, member] = fn
  return `${code(member === undefined ? name : `${name}.${member}`)} (${pkg})`
}

export function routeCell(route) {
  return route === undefined ? '' : code(`${route[0]} ${route[1]}${route[2] ?? ''}`)
}

export function cliCell(cli) {
  return cli === undefined ? '' : code(`chorus-node ${cli[0]}${cli[1] !== undefined ? ` ${cli[1]}` : ''}`)
}

/** The README's feature table (markdown), one row per feature. */
export function featureTable(features = FEATURES) {
  const rows = features.map(
    (f) =>
      `| ${f.area} | ${f.op} | ${fnCell(f.fn)} | ${f.route === undefined ? '—' : routeCell(f.route)} | ${f.cli === undefined ? '—' : cliCell(f.cli)} | ${f.how ?? ''} |`
  )
  return [
    '| area | reference operation | package function | API route | CLI command | how the agent does it |',
    '|---|---|---|---|---|---|',
    ...rows
  ].join('\n')
}
