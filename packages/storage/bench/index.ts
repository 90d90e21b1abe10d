/**
 * Benchmark: EncryptedStorage on a loopback network of real LibP2PDHT nodes (every node runs the
 * storage, as every CHORUS agent does), beside raw @libp2p/kad-dht put/get on a network of the same
 * size, both running in this process at the same time. Operations alternate between the two
 * networks, so both see the same machine load; each operation starts with the previous one's
 * background work finished (raw kad-dht has none: its put returns when it is done); a store is
 * also timed until its own background work is done ("store until idle"), the whole cost. The system
 * benchmark (apps/bench) measures the same way. A third network of the same size runs in team mode
 * (member certificates, the write rule in every validator, admission), so the cost of the team's
 * checks is measured beside the open network in the same run.
 *   node bench/index.ts           20 + 20 nodes, 30 operations per figure
 *   node bench/index.ts --quick   6 + 6 nodes, 4 operations, each phase stops after 4 s (smoke run,
 *                                 under ~15 s)
 * Writes bench-results/latest.json.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createAgeCrypto,
  createKeyring,
  createRoleRegistry,
  generateRoleKey,
  getPredefinedRoles
} from '@chorus/crypto'
import { loadNodeIdentity } from '@chorus/dht'
import { startKadBaselineNetwork, startNetwork } from '@chorus/dht/testing'
import {
  createManifest,
  createTeamMember,
  createTeamPolicy,
  generateTeamRoot,
  issueCertificate,
  rootSigner,
  signManifest,
  teamIdOf,
  teamRecordSelector,
  teamRecordValidator
} from '@chorus/team'
import { chorusRecordRules, createEncryptedStorage } from '../dist/index.js'

const quick = process.argv.includes('--quick')
const NODES = quick ? 6 : 20
const OPS = quick ? 4 : 30
const WARMUP = quick ? 1 : 3
const CACHED_OPS = quick ? 500 : 20000
const SIZE = 1024
const SETTLE_MS = quick ? 500 : 10_000
/** A quick run's phases start no timed operation after this (at least 2 are always taken). */
const PHASE_MS = quick ? 4_000 : Number.POSITIVE_INFINITY
const more = (i: number, started: number): boolean =>
  i < WARMUP + OPS && (i < WARMUP + 2 || performance.now() - started < PHASE_MS)

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN
}
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d
const payload = (i: number): Uint8Array => {
  const b = new Uint8Array(SIZE)
  for (let k = 0; k < SIZE; k++) b[k] = (i * 31 + k) & 0xff
  return b
}
const log = (...a: unknown[]): void => console.error('[bench]', ...a)
const failures: string[] = []
/** Times `f`; a failure is recorded (not hidden) and left out of the figure. */
const timed = async (
  into: number[] | undefined,
  what: string,
  f: () => Promise<unknown>
): Promise<boolean> => {
  const t = performance.now()
  try {
    await f()
    into?.push(performance.now() - t)
    return true
  } catch (err) {
    failures.push(`${what}: ${(err as Error).name} ${(err as { code?: string }).code ?? ''}`.trim())
    return false
  }
}

log(
  `starting ${NODES} raw kad-dht nodes, ${NODES} LibP2PDHT nodes with the CHORUS record rules, ${NODES} more in team mode`
)
const dir = mkdtempSync(join(tmpdir(), 'chorus-storage-bench-'))
const raw = await startKadBaselineNetwork({ nodes: NODES, readyTimeout: 60_000 })
// Every CHORUS node keeps its DHT records in its datastore on disk (a data directory), as an agent does;
// the team-mode network needs data directories for its node keys, so the open one has them too
// and the two differ only in the team's checks.
const net = await startNetwork({
  nodes: NODES,
  records: chorusRecordRules(),
  readyTimeout: 60_000,
  init: (i) => ({ dataDir: join(dir, `open-${i}`) })
}).catch(async (err: unknown) => {
  await raw.stop()
  throw err
})
const keys = new Map(Object.keys(getPredefinedRoles()).map((r) => [r, generateRoleKey(r)]))

// The same network in team mode: a team root, a manifest naming every role's key, one member
// certificate per node (in every envelope it writes), the write rule in every validator, and
// admission before any CHORUS protocol serves a peer: the cost of the checks, measured beside the
// open network in the same run.
const teamRoot = generateTeamRoot()
const teamId = teamIdOf(teamRoot.publicKey)
const manifest = signManifest(
  createManifest({
    team: teamId,
    recipients: Object.fromEntries(
      [...keys].map(([r, k]) => [
        r,
        [{ keyId: k.id, recipient: k.recipient, status: 'current' as const, createdAt: Date.now() }]
      ])
    )
  }),
  rootSigner(teamRoot)
)
const TEAM_ROLES = ['backend_developer', 'senior_architect']
const teamDirs = Array.from({ length: NODES }, (_, i) => join(dir, `team-${i}`))
const teamIds = await Promise.all(teamDirs.map((d) => loadNodeIdentity(d)))
const teamPolicies = teamDirs.map(() => createTeamPolicy({ root: teamRoot.publicKey, manifest }))
const teamCerts = teamIds.map((id, i) =>
  issueCertificate(
    {
      team: teamId,
      agent: i === 0 ? 'agent001' : `member${i}`,
      roles: i === 0 ? ['backend_developer'] : TEAM_ROLES,
      nodeKey: id.publicKey,
      recipient: keys.get('observer')!.recipient,
      serial: i + 1
    },
    rootSigner(teamRoot)
  )
)
const teamNet = await startNetwork({
  nodes: NODES,
  readyTimeout: 60_000,
  init: (i) => ({
    dataDir: teamDirs[i]!,
    records: chorusRecordRules({
      authority: teamPolicies[i]!,
      fallbackValidator: teamRecordValidator(teamPolicies[i]!),
      fallbackSelector: teamRecordSelector(teamPolicies[i]!)
    }),
    admission: createTeamMember({ policy: teamPolicies[i]!, certificate: teamCerts[i]! })
  })
}).catch(async (err: unknown) => {
  await Promise.allSettled([raw.stop(), net.stop()])
  throw err
})

const storageOn = async (i: number, role: string, init: Record<string, unknown> = {}, team = false) => {
  const node = (team ? teamNet : net).nodes[i]!
  const roles = createRoleRegistry()
  const keyring = createKeyring()
  for (const [r, k] of keys) {
    if (r === role) keyring.addIdentity(k)
    else keyring.addRecipient(r, k.recipient)
  }
  const s = createEncryptedStorage(
    {
      dht: node,
      crypto: createAgeCrypto({ roles, keyring }),
      roles,
      keyring,
      signer: node.signer,
      ...(team ? { authority: teamPolicies[i]!, certificate: () => teamCerts[i]! } : {})
    },
    { dataDir: join(dir, `${team ? 'team-' : ''}n${i}-${role}`), nodeId: node.peerId, ...init }
  )
  await s.start()
  return s
}

const rawPut: number[] = []
const rawGet: number[] = []
const store: number[] = []
const storeIdle: number[] = []
const acks: number[] = []
const coldClosest: number[] = []
const coldNetwork: number[] = []
const coldLocalFirst: number[] = []
const coldVersion: number[] = []
const cached: number[] = []
const teamStore: number[] = []
const teamStoreIdle: number[] = []
const teamCold: number[] = []
const half = Math.floor(NODES / 2)
try {
  const writer = await storageOn(0, 'backend_developer')
  const readerClosest = await storageOn(half, 'senior_architect')
  const readerNetwork = await storageOn(half - 1, 'senior_architect', { retrieveConsistency: 'network' })
  const readerLocal = await storageOn(half + 1, 'devops_engineer', { retrieveConsistency: 'local-first' })
  const readerVersion = await storageOn(NODES - 1, 'senior_architect')
  const busy = new Set([0, half - 1, half, half + 1, NODES - 1])
  const others = await Promise.all(
    Array.from({ length: NODES }, (_, i) => i)
      .filter((i) => !busy.has(i))
      .map((i) => storageOn(i, 'qa_engineer'))
  )
  const teamWriter = await storageOn(0, 'backend_developer', {}, true)
  const teamReader = await storageOn(half, 'senior_architect', {}, true)
  const teamOthers = await Promise.all(
    Array.from({ length: NODES }, (_, i) => i)
      .filter((i) => i !== 0 && i !== half)
      .map((i) => storageOn(i, 'senior_architect', {}, true))
  )
  const all = [writer, readerClosest, readerNetwork, readerLocal, readerVersion, ...others]
  const teamAll = [teamWriter, teamReader, ...teamOthers]
  const teamIdle = () => Promise.all(teamAll.map((s) => s.whenIdle()))
  const idle = () => Promise.all(all.map((s) => s.whenIdle()))
  await new Promise((r) => setTimeout(r, SETTLE_MS))

  const address = (i: number): string => `ucxl://agent001:backend_developer@bench:t${i}/*^/decision`
  const rawKey = (i: number): string => `/CHORUS/bench/${i}`
  const stored = new Set<number>()
  const rawStored = new Set<number>()
  const teamStored = new Set<number>()
  log(`writes: ${WARMUP} warm-up + ${OPS} timed, alternating raw put and store`)
  let phase = performance.now()
  for (let i = 0; more(i, phase); i++) {
    const measure = i >= WARMUP
    if (
      await timed(measure ? rawPut : undefined, `raw put ${i}`, () =>
        raw.put(i % NODES, rawKey(i), payload(i))
      )
    ) {
      rawStored.add(i)
    }
    const t = performance.now()
    const ok = await timed(measure ? store : undefined, `store ${i}`, async () => {
      const r = await writer.storeUCXLContent(address(i), payload(i), 'backend_developer', 'text/plain')
      if (measure) acks.push(r.acks)
    })
    if (ok) stored.add(i)
    await idle()
    if (ok && measure) storeIdle.push(performance.now() - t)
    const tt = performance.now()
    const teamOk = await timed(measure ? teamStore : undefined, `team store ${i}`, () =>
      teamWriter.storeUCXLContent(address(i), payload(i), 'backend_developer', 'text/plain')
    )
    if (teamOk) teamStored.add(i)
    await teamIdle()
    if (teamOk && measure) teamStoreIdle.push(performance.now() - tt)
  }
  log('raw put p50', round(p50(rawPut)), 'store p50', round(p50(store)), 'until idle', round(p50(storeIdle)))
  log('cold reads: raw get, then each storage read mode, alternating')
  phase = performance.now()
  for (let i = 0; more(i, phase); i++) {
    const m = i >= WARMUP
    if (rawStored.has(i))
      await timed(m ? rawGet : undefined, `raw get ${i}`, () => raw.get((i + half) % NODES, rawKey(i)))
    if (!stored.has(i)) continue
    await timed(m ? coldClosest : undefined, `closest ${i}`, () =>
      readerClosest.retrieveUCXLContent(address(i))
    )
    await idle()
    if (teamStored.has(i)) {
      await timed(m ? teamCold : undefined, `team closest ${i}`, () =>
        teamReader.retrieveUCXLContent(address(i))
      )
      await teamIdle()
    }
    await timed(m ? coldNetwork : undefined, `network ${i}`, () =>
      readerNetwork.retrieveUCXLContent(address(i))
    )
    await idle()
    await timed(m ? coldLocalFirst : undefined, `local-first ${i}`, () =>
      readerLocal.retrieveUCXLContent(address(i))
    )
    await idle()
    await timed(m ? coldVersion : undefined, `version ${i}`, () =>
      readerVersion.retrieveUCXLContent(address(i).replace('*^', '*~1'))
    )
    await idle()
  }
  log(
    'raw get p50',
    round(p50(rawGet)),
    'cold closest',
    round(p50(coldClosest)),
    'network',
    round(p50(coldNetwork)),
    'local-first',
    round(p50(coldLocalFirst)),
    '*~1',
    round(p50(coldVersion))
  )
  const hot = address([...stored][0] ?? 0)
  for (let i = 0; i < 200; i++) await readerClosest.retrieveUCXLContent(hot)
  for (let i = 0; i < CACHED_OPS; i++) {
    const t = performance.now()
    await readerClosest.retrieveUCXLContent(hot)
    cached.push(performance.now() - t)
  }
  log('cached retrieve p50', round(p50(cached), 4))
  await Promise.all([...all, ...teamAll].map((s) => s.stop()))
} finally {
  await Promise.allSettled([net.stop(), raw.stop(), teamNet.stop()])
  rmSync(dir, { recursive: true, force: true })
}

// The signed audit log on the hot path: bench/audit.ts in its own process (one node, cache-hit
// retrieves, audit logging off then on), so its figures do not share a heap with the networks above.
const auditCost = (() => {
  const run = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./audit.ts', import.meta.url)), '--ops', quick ? '500' : '5000'],
    { encoding: 'utf8', timeout: 300_000 }
  )
  try {
    return JSON.parse(run.stdout) as {
      auditOff: { usPerRetrieve: number }
      auditOn: { usPerRetrieve: number; entries: number; checkpoints: number; verified: boolean }
      nodeKeySignatureUs: number
    }
  } catch {
    failures.push(`audit log cost: bench/audit.ts exited ${run.status}`)
    return undefined
  }
})()

const rawPutP50 = p50(rawPut)
const rawGetP50 = p50(rawGet)
const entry = (
  name: string,
  value: number,
  unit: string,
  baseline?: { name: string; value: number },
  note?: string
) => ({
  name,
  value: round(value, 4),
  unit,
  ...(baseline !== undefined
    ? {
        baseline: { name: baseline.name, value: round(baseline.value, 4) },
        ratio: round(value / baseline.value, 3)
      }
    : {}),
  ...(note !== undefined ? { note } : {})
})
const putBase = { name: 'raw kad-dht put p50', value: rawPutP50 }
const getBase = { name: 'raw kad-dht get p50', value: rawGetP50 }
const results = [
  entry(
    'raw kad-dht put p50',
    rawPutP50,
    'ms',
    undefined,
    `${NODES} nodes, ${SIZE} B values, contentRouting.put (${rawPut.length} timed)`
  ),
  entry(
    'raw kad-dht get p50',
    rawGetP50,
    'ms',
    undefined,
    `contentRouting.get from another node (${rawGet.length} timed)`
  ),
  entry(
    'store p50',
    p50(store),
    'ms',
    putBase,
    `encrypt + sign + direct push of version and head records to the closest connected peers; returns at write quorum 3 (median acks ${p50(acks)}); kad-dht puts and the provide finish in the background (see store until idle); stores alternate with raw puts and each starts with the previous one's background work done, as in the system benchmark; target ratio <= 0.333`
  ),
  entry(
    'store until idle p50',
    p50(storeIdle),
    'ms',
    putBase,
    'the same stores timed until their background work (remaining kad-dht puts of version and head records, the provide of the head) had finished: the whole cost of a store'
  ),
  entry(
    'cold retrieve p50 (*^, closest: default)',
    p50(coldClosest),
    'ms',
    getBase,
    'own record store + the 3 closest connected peers over the direct protocol, verify, decrypt; target ratio <= 0.2'
  ),
  entry(
    'cold retrieve p50 (*^, network)',
    p50(coldNetwork),
    'ms',
    getBase,
    "consistency 'network': every peer on the kad query path answers (getValues), verify, decrypt"
  ),
  entry(
    'cold retrieve p50 (*^, local-first)',
    p50(coldLocalFirst),
    'ms',
    getBase,
    "consistency 'local-first': the node's own replica, refreshed in the background"
  ),
  entry(
    'cold retrieve p50 (*~1, immutable version)',
    p50(coldVersion),
    'ms',
    getBase,
    'fixed versions are immutable: own replica first, else the network'
  ),
  entry(
    'store p50, team mode',
    p50(teamStore),
    'ms',
    { name: 'store p50', value: p50(store) },
    `the same stores on a third ${NODES}-node network in team mode: the member certificate in every envelope, the team's write rule in every validator (writer, direct push, kad PUT_VALUE), admission of every peer; alternating with the open-mode stores`
  ),
  entry(
    'store until idle p50, team mode',
    p50(teamStoreIdle),
    'ms',
    { name: 'store until idle p50', value: p50(storeIdle) },
    'team-mode stores until their background work had finished'
  ),
  entry(
    'cold retrieve p50 (*^, closest), team mode',
    p50(teamCold),
    'ms',
    { name: 'cold retrieve p50 (*^, closest: default)', value: p50(coldClosest) },
    'the write rule on every candidate a reader receives (certificate verified once, then cached), alternating with the open-mode reads; the open network also runs three other read modes between these reads (their background work included in its idle wait), so this pair is a looser comparison than the stores'
  ),
  entry(
    'cached retrieve p50',
    p50(cached),
    'ms',
    undefined,
    `${CACHED_OPS} hits on one address; target < 0.1 ms`
  ),
  ...(auditCost === undefined
    ? []
    : [
        entry(
          'cached retrieve, audit logging off',
          auditCost.auditOff.usPerRetrieve,
          'µs',
          undefined,
          'bench/audit.ts: one node, cache-hit retrieves each on its own event-loop turn, audit logging off'
        ),
        entry(
          'cached retrieve, signed audit log',
          auditCost.auditOn.usPerRetrieve,
          'µs',
          { name: 'cached retrieve, audit logging off', value: auditCost.auditOff.usPerRetrieve },
          `the same with the audit log on: an entry per retrieve (role and key id), one checkpoint signed with the node key per flush (${auditCost.auditOn.checkpoints} checkpoints for ${auditCost.auditOn.entries} entries; one node-key signature costs ${auditCost.nodeKeySignatureUs} µs); verified afterwards: ${auditCost.auditOn.verified}`
        )
      ])
]
mkdirSync(new URL('../bench-results/', import.meta.url), { recursive: true })
const out = {
  package: '@chorus/storage',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  ...(quick ? { quick: true } : {}),
  layout: `no node is a separate process: the three ${NODES}-node networks (LibP2PDHT with storage on every node in open mode, the same in team mode, both with their DHT records in their datastore on disk as agents keep them, and raw kad-dht with an in-memory datastore) run in this one Node.js process, each node its own libp2p node on 127.0.0.1 TCP`,
  results,
  failures
}
writeFileSync(new URL('../bench-results/latest.json', import.meta.url), `${JSON.stringify(out, null, 2)}\n`)
console.log(JSON.stringify(out, null, 2))
