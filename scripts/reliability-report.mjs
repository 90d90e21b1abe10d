#!/usr/bin/env node
// Renders RELIABILITY.md from .reports/reliability.json, which the reliability suite
// (tests/reliability, vitest project `reliability`) writes at the end of every run, and from
// .reports/faults.json, which the randomized fault run (apps/faults, vitest project `faults`, or
// `pnpm --filter @chorus/faultcheck faults`) writes.
//   node scripts/reliability-report.mjs [input.json] [output.md] [faults.json]
// (faults.json defaults to the one beside input.json: a fresh clone's .reports/ gives both)
//   node scripts/reliability-report.mjs --faults-only [faults.json] [output.md]
// --faults-only (or a missing reliability.json) rewrites only the section "Randomized fault runs"
// of the existing RELIABILITY.md, so a fault run alone can update its figures.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const faultsOnly = process.argv[2] === '--faults-only'
const args = faultsOnly ? [undefined, ...process.argv.slice(3)] : process.argv.slice(2)
const input = faultsOnly ? undefined : (args[0] ?? join(ROOT, '.reports', 'reliability.json'))
const output = (faultsOnly ? args[2] : args[1]) ?? join(ROOT, 'RELIABILITY.md')
// by default the fault report of the same run: the faults.json beside the reliability.json given
const faultsInput =
  (faultsOnly ? args[1] : args[2]) ?? join(dirname(input ?? join(ROOT, '.reports', 'x')), 'faults.json')
const fr = existsSync(faultsInput) ? JSON.parse(readFileSync(faultsInput, 'utf8')) : undefined
const FAULTS_HEADING = '## Randomized fault runs'

/** `1 verification`, `11.5 verifications`, `2.4 ms`: a count unit loses its plural at exactly 1. */
const withUnit = (v, unit) =>
  `${n(v)} ${v === 1 && unit.endsWith('s') && unit.length > 2 ? unit.slice(0, -1) : unit}`
const n = (x) => Number(x).toLocaleString('en-US')
const ms = (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${n(x)} ms`)
const table = (head, rows) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`)
  ].join('\n')
const sum = (m) => Object.values(m).reduce((a, b) => a + b, 0)

// Maintained by hand: what the suite found, where, and the suggested fix.
const FINDINGS = [
  {
    where:
      'packages/crypto (age header parsing, decryptAge), packages/storage (envelope decoding, record check) — FIXED by the bounded-costs work',
    what: 'SECURITY: a member could write one record whose age ciphertext carries about 11,000 recipient stanzas (a full 1 MiB record): every node validated, stored and replicated it, and each reader tried every stanza with every identity it held, one X25519 agreement each, holding the event loop for seconds; and each received record was decoded and its signature verified two to a dozen times on its way in (kad-dht validator, direct push, read candidates, chain walk, indexing).',
    fix: 'done: at most 128 recipient stanzas (`maxRecipientStanzas`), counted while the header is parsed; records with more, or with any stanza but X25519, are malformed at validation; a reader refuses a header over the cap or needing more than 4096 unwraps (stanzas × identities) before the first agreement, and yields to the event loop every 32 unwraps; a verified-record memo per authority verifies each distinct record once (the write rule still runs on every check; a new manifest empties it). Figures: "Hostile-input bounds" above (`bounds.spec.ts`).'
  },
  {
    where:
      'packages/common/src/unsafe-keys.ts (findUnsafeKey), through packages/crypto parseRolesFile — FIXED the same day',
    what: 'the new check for prototype keys in configuration files walked a parsed document recursively, and a YAML document that refers to itself (`roles: &a [*a]`) overflowed the stack: an untyped RangeError instead of a RolesFileError (found by the roles-file fuzz on its first CI run).',
    fix: 'done: each object is visited once (a WeakSet of those seen); a unit test covers self-referring arrays and maps.'
  },
  {
    where:
      'packages/storage (records.ts, direct put handler), packages/replication (replicate handler) — FIXED by the team-trust work',
    what: 'SECURITY: a record was accepted when signed by the key it carries, so a peer holding no role key signed its own chain for someone else\'s address with an early timestamp and pushed it over the storage protocol: honest nodes took its head and its "immutable" versions, the author\'s next store was refused, and a fresh reader returned the forgery as latest; a read-only member could do the same; the replicate protocol pinned whatever was pushed and counted holder claims it never checked.',
    fix: "done: the team's write rule (@chorus/team: member certificate in every envelope, agent, role, creatorRole, authority) in every validator on every path; admission of members only; version records immutable and heads moving only forward (equivocation charged to its author), no timestamp deciding; replicas only for target holders within quotas, holders counted after a proof of possession (`trust.spec.ts`)."
  },
  {
    where:
      'packages/storage/src/storage.ts (consistent()) with @libp2p/kad-dht PUT_VALUE — FIXED in 9ff49a5, 330a94b',
    what: "SECURITY: a peer PUTs a validly signed next version of someone else's address with its own key, chained to the real head (`previous` = its hash). Every honest kad-dht server stores it (the validator sees a good signature; kad-dht never compares an incoming record with the one it replaces), so a reader with no local copy of the chain sees the forger's author on most peers and returns the forged content.",
    fix: 'done: a reader accepts version n > 1 only if version n-1 (index, local store, closest peers, else the network) has the hash `previous` names and the same author, back to a version it trusts or to v1 (verified links remembered, walk bounded); the CHORUS selector prefers a predecessor over a successor chained to it by another author; LibP2PDHT refuses an incoming record its selector ranks below the held one (`StaleRecordError`, no reputation penalty).'
  },
  {
    where:
      'packages/storage/src/storage.ts (retrieve of *^) with @libp2p/kad-dht PUT_VALUE — FIXED in 9ff49a5, 330a94b',
    what: 'SECURITY: a peer PUTs the genuine version 1 under the head key; every honest kad-dht server replaces the newer head with it, and a reader with no local history returns version 1 as the latest although versions 2 and 3 are still on the network under their own keys.',
    fix: 'done: honest servers refuse the replayed older record (selector check on PUT, as go-libp2p-kad-dht); a `*^` read probes `/v/n+1` onward (local store and closest peers, concurrently with the chain check, 2 s cap) and follows valid same-author successors.'
  },
  {
    where: 'packages/crypto/src/roles-file.ts (parseRolesFile) — FIXED in 3d9659f',
    what: 'a YAML alias without anchor (`roles: *a`) escaped as an untyped `ReferenceError` from `doc.toJS()` (found by fuzzing).',
    fix: 'done: `doc.toJS()` errors (unresolved aliases, alias bombs) are now a `RolesFileError`; the fuzz test asserts it.'
  },
  {
    where: 'packages/storage/src/audit.ts (AuditLog.flush) — FIXED in 330a94b, c0e9360',
    what: 'an append that fails half-way (disk full) leaves a torn line and drops the batch while the in-memory hash chain has moved on, so `verifyAuditLog()` reports the log corrupt from then on.',
    fix: 'done: appends through a file handle; on failure truncates back to the previous size and keeps the lines for the next flush; once the lines are in the file, a head the index cannot save (same full disk) only lags the file, so lines are never written twice.'
  },
  {
    where: 'packages/dht/src/reputation/reputation.ts (prune) — FIXED in 8f27c65',
    what: 'with the peer table full, pruning on `ban()` or `penalise()` of a new peer could drop that very entry (no points yet) before the ban or points were added, so the ban was lost (seen as an intermittent failure of `reputation.spec.ts`).',
    fix: 'done: pruning never drops the entry being touched.'
  },
  {
    where: 'packages/storage (start, store on a bad disk) — FIXED in 330a94b',
    what: "starting on a read-only directory throws node:sqlite's raw `ERR_SQLITE_ERROR`; a store on a full disk answers the generic `UCXL-500-INTERNAL`.",
    fix: 'done: ENOSPC/EDQUOT/SQLITE_FULL are `InsufficientStorageError` (`UCXL-507-INSUFFICIENT_STORAGE`), EROFS/EACCES/EPERM/SQLITE_READONLY (and an index that cannot be opened at start) `DataDirNotWritableError` (`UCXL-500-DATA_DIR_NOT_WRITABLE`), naming the data directory; the HTTP API maps them by their code (507, 500).'
  },
  {
    where: 'packages/storage/src/direct.ts (recordHandler) — FIXED in 330a94b',
    what: 'records pushed over `/CHORUS/storage/records/1.0.0` are validated by storage itself, outside the reputation-guarded validators, so a peer pushing invalid records is refused but never penalised.',
    fix: 'done: an invalid pushed record is also offered to `dht.putValue(key, value, { localOnly: true })`, whose guarded validator refuses it and charges the sender.'
  },
  {
    where: '@libp2p/kad-dht put (seen through packages/dht putValue)',
    what: "a peer that accepts streams but never answers stalls the closest-peers lookup of a plain DHT put until the query timeout (6 s instead of ~0.1 s); storage's direct push hides it for CHORUS records.",
    fix: "give each kad request its own timeout (shorter than the query's), or keep the direct push as the primary write path."
  }
]

// Maintained by hand: what the randomized fault runs found (apps/faults/README.md has the detail).
const FAULT_FINDINGS = [
  {
    where: 'packages/storage/src/write/write-path.ts (WritePath.knownHead) — FIXED in c3e36da, 3022c32',
    what: "a writer whose disk was wiped (node key and team files restored) takes the next version of its own addresses from its empty index and record store, so it signs a second version 1, 2, … with the same node key. The other agents refuse them as equivocation and ban it for 10 minutes (`peer banned`, reason `invalid-record`, `banMs` 600000), its stores time out, and it serves its forked chain to its own clients while the team serves the acknowledged one (checker: `fork`, two envelopes for version 1; `convergence`, the wiped agent cannot read the team's records). Seed 2, 5 agents, 60 s, preset full; reproduced alone with three agents (apps/faults/README.md).",
    fix: "done: a writer whose local index is new (created at this start) and holds no chain for an address asks the nearest connected peer for its head before choosing a version (`headsFromNetwork`); when no peer answers, the push is where a fork is refused. Seed 2 (5 agents, 60 s, preset full, agent 1 wiped) now ends with 0 violations (2026-12-06, loopback). The CI run still draws no wipes (`--preset ci`), to keep its seeds' schedules; the soak and `--preset full` runs have them."
  },
  {
    where: 'packages/replication/src/sweep (exchange, sync handler) — FIXED in d77c48f, a727152',
    what: "a CI run of the fixed loopback seed 7919 (4 agents, preset ci) ended with one `convergence` violation: for 60 s after the faults, agent 3 read version 14 of an address whose version 22 was acknowledged, in every round of final reads. Not reproduced in 16 local runs; reading the agents' logs of later runs (info level, `--keep`) showed honest agents banned for 10 minutes for `bogus-provider` by the sweep: a record served with a newer value than the pair its sender had named a moment before (a write arrived between the two messages), or a summary proof checked against values replaced during the exchange, counted as a lie. A banned peer is cut off, so a node reads from the stale peers it has left. Likely the cause of the CI violation (not proven). A stale copy was also never refreshed between 12-hour reprovide passes once its key counted healthy.",
    fix: 'done: a record that moved on to a newer version is judged by the replicate rules like any push (only a named record that never comes is charged); a proof over values replaced during the exchange is left unverified, not charged; the sweep passes every `repairInterval` (one pass per `reprovideInterval` looks up), so a stale holder is brought up to date within one repair interval. 16 local runs (two at a time on the 2-core machine) with no ban and no violation; the next CI run passed.'
  },
  {
    where: 'packages/replication/src/departures.ts (lab partition test) — FIXED in 299c1d3',
    what: 'a CI run failed the lab test "a site partitioned for 30 s": one write acknowledged inside the NATed site during the partition stayed unreadable outside for 150 s after healing. The NATed agents dial each other directly, so during the partition AutoNAT found them public (their logs: `reachability changed` to public, then back to private after healing); they turned DHT servers, the write counted three reachable copies, its key was healthy and had no further check once they turned client again.',
    fix: 'done: a connected server that turns client is a departed holder (its keys are checked), and a node that turns client checks every key it holds, spread over 5 s (2 ms a key in a large store). The lab test passed locally (the NATed agents logging "this node turned DHT client; its keys are checked" after healing) and in the next CI run.'
  },
  {
    where: 'apps/node (agents under heavy machine load) — NOT DIAGNOSED',
    what: 'on this 2-core machine at a load average of 20 to 35, a few runs (seed 3, 5 agents, 60 s, preset full) ended with one or two agents whose every read still timed out (`UCXL-504-TIMEOUT`; hybrid: `DHTTimeoutError: real getValue timed out after 15000 ms`) 60 s after the faults, reads of their own addresses included.',
    fix: "re-run the seed on a quiet machine with `--keep` and read the agents' logs; load or a liveness bug."
  },
  {
    where: 'apps/node in the network lab (soak, seed 15) — NOT DIAGNOSED',
    what: "`faults --target lab --soak --seed 15 --duration 90` (7 agents: n0–n3 public, n4–n6 behind NAT; kills of n3, n2 and n1, a partition [1,2,6] | [0,3,4,5], loss bursts on n2 and n4, n6's relay taken away twice) ended with one `convergence` violation: 120 s after the faults, public agent n2 (killed and restarted at 37.8–63.8 s, then on the minority side of the partition) still answered `UCXL-504-TIMEOUT` for `ucxl://n0:backend_developer@faults:run/*^/c7-k0`, whose version 7 n0 acknowledged at 125.6 s (during the second relay fault). Every other agent read version 7, every version 1–7 read back by number (no lost write, no gap, no fork). Load average about 20; only two rounds of final reads fit in the settling time (each read may wait 15 s). A second run of the same seed (with `--keep`) found no violation (recovery 31.8 s): timing-dependent.",
    fix: "repeat the seed with `--keep` until it fails again and read n2's log for that address: a read path that keeps timing out on one head after a restart and a partition, or load."
  }
]

if (faultsOnly || !existsSync(input)) {
  // only the fault run's section, in place (added before "Hostile-input bounds" when missing)
  const old = readFileSync(output, 'utf8')
  const section = `${FAULTS_HEADING}\n\n${faultsSection(fr)}\n\n`
  const at = old.indexOf(`${FAULTS_HEADING}\n`)
  let md
  if (at >= 0) {
    const end = old.indexOf('\n## ', at + FAULTS_HEADING.length)
    md = old.slice(0, at) + section + (end < 0 ? '' : old.slice(end + 1))
  } else {
    const before = old.indexOf('## Hostile-input bounds')
    md = before < 0 ? `${old.trimEnd()}\n\n${section}` : old.slice(0, before) + section + old.slice(before)
  }
  writeFileSync(output, md)
  console.log(`wrote the fault-run section of ${output}`)
  process.exit(0)
}
const r = JSON.parse(readFileSync(input, 'utf8'))
const faults = Object.entries(r.faults).sort((a, b) => b[1] - a[1])
const bad = Object.entries(r.badInputs).sort((a, b) => b[1] - a[1])
const recoveries = Object.entries(r.recoveries).sort((a, b) => b[1] - a[1])
const security = Object.entries(r.securityFailures ?? {})
const verdict = `${r.recordsLost === 0 && r.recordsCorrupted === 0 ? 'nothing lost, nothing corrupted' : 'RECORDS LOST OR CORRUPTED'}${
  security.length > 0
    ? `; ${sum(r.securityFailures)} SECURITY FAILURE(S) (see Findings)`
    : '; no security failure'
}`

/** The randomized fault run's section (from .reports/faults.json), or a note that it did not run. */
function faultsSection(f) {
  if (f === undefined)
    return 'No report of the randomized fault run (`.reports/faults.json`): run `pnpm exec vitest run --project faults` or `pnpm --filter @chorus/faultcheck faults`.'
  const opsTotal = sum(f.operations)
  // reports written before the lab target have no target: they ran on loopback
  const targetOf = (d) => d.target ?? 'loopback'
  const byTarget =
    f.byTarget ?? Object.fromEntries([['loopback', { runs: f.runs, faults: f.faults, skipped: f.skipped }]])
  const targets = Object.keys(byTarget)
  const TARGET_NAMES = {
    loopback: 'loopback (agent processes on 127.0.0.1; partitions and loss by iptables on lo)',
    lab: 'network lab (each agent in a network namespace of its own; a public site and a site behind a NAT router whose agents hold a relay reservation; partitions and loss by iptables in the namespaces)'
  }
  const FAULT_NAMES = {
    partition: 'partition of random halves',
    kill: 'kill -9 and restart of an agent',
    loss: 'loss burst on one agent (iptables random drop)',
    wipe: "an agent's disk wiped (kill, data deleted, restart)",
    relay:
      "a NATed agent's relay taken away (cut from the relay it holds a reservation on, until the fault ends)"
  }
  // every kind, those that did not come up included (0)
  const kinds = [
    ...new Set([...Object.keys(FAULT_NAMES), ...Object.keys(f.faults), ...Object.keys(f.skipped)])
  ]
  const PROPERTY_NAMES = {
    'lost-write': 'no acknowledged write lost (every acknowledged version read back by number, same value)',
    'read-your-writes': 'a writer reads its own writes',
    'monotonic-reads': 'a reader never sees a lower version than it saw',
    fork: 'no fork (one envelope and one value per version, each chained to the one before)',
    gap: 'no gap (every version from 1 to the latest readable)',
    convergence: 'after the faults and the settling time, every agent reads every acknowledged latest version'
  }
  const seeds = f.details
    .map(
      (d) =>
        `\`${d.seed}\` (${targetOf(d)}, ${d.nodes} agents, ${n(d.durationMs / 1000)} s of faults, ${n(sum(d.operations))} operations, ${sum(d.violations)} violations${d.recoveryMs === null ? ', never recovered' : `, recovered in ${ms(d.recoveryMs)}`})`
    )
    .join('; ')
  return `Figures from the latest randomized fault run in the manner of Jepsen (\`apps/faults\`,
\`@chorus/faultcheck\`; mode \`${f.mode}\`, ${f.date}): real agent processes, a seeded schedule of
faults, clients writing and reading through the agents' HTTP API, every operation in a history, and
a checker of the promised properties over it. Targets: ${targets.map((t) => TARGET_NAMES[t] ?? t).join('; ')}.
Repeat a run with
\`pnpm --filter @chorus/faultcheck faults --target <target> --seed <seed> --nodes <n> --duration <s> --preset <mode>\`; a soak run with \`--soak\` (either target).

${table(
  ['', ''],
  [
    ['Runs (seeds)', `${n(f.runs)}: ${seeds}`],
    [
      'Client operations',
      `${n(opsTotal)} (${Object.entries(f.operations)
        .sort()
        .map(([k, v]) => `${n(v)} ${k}`)
        .join(', ')})`
    ],
    ['Final-phase reads', n(f.finalReads)],
    ['Faults injected', n(sum(f.faults))],
    ['**Violations**', `**${n(f.totalViolations)}**`],
    [
      "Longest recovery (end of the faults to every agent reading every acknowledged latest version, including the wait for the clients' last operations)",
      f.longestRecoveryMs === null ? '**never**' : ms(f.longestRecoveryMs)
    ],
    ['Longest agent restart (kill or wipe to API ready)', ms(f.longestRestartMs)]
  ]
)}

${table(
  ['fault', ...targets.flatMap((t) => [`injected (${t})`, `skipped (${t}: cannot)`])],
  kinds.map((k) => [
    FAULT_NAMES[k] ?? k,
    ...targets.flatMap((t) => [n(byTarget[t].faults[k] ?? 0), n(byTarget[t].skipped[k] ?? 0)])
  ])
)}

${table(
  ['property checked', 'violations'],
  Object.entries(f.violations).map(([k, v]) => [PROPERTY_NAMES[k] ?? k, v === 0 ? '0' : `**${n(v)}**`])
)}

Findings of the fault runs (maintained by hand in \`scripts/reliability-report.mjs\`):

${FAULT_FINDINGS.map((x) => `- **${x.where}**: ${x.what} Fix: ${x.fix}`).join('\n')}`
}

const md = `# Reliability and security

Figures from the latest run of the reliability suite (\`tests/reliability\`, vitest project
\`reliability\`, part of \`.ci/run\`): real libp2p nodes on 127.0.0.1, real node processes killed with
SIGKILL, real file systems filled and made read-only, hostile peers on the network, and fast-check
fuzzing of every parser that takes outside input. Regenerate this file after a run with
\`node scripts/reliability-report.mjs\`. A longer soak run: \`CHORUS_SOAK=1 pnpm exec vitest run --project reliability\`
(ten times the fuzz runs, more records and crash cycles).

Run: ${r.date} · mode \`${r.mode}\` · ${ms(r.durationMs)} · ${r.machine.cpus} × ${r.machine.cpuModel} · Node ${r.machine.node}

## Summary

${table(
  ['', ''],
  [
    ['Records written (acknowledged)', n(r.recordsWritten)],
    ['Records read back and compared', n(r.recordsRead)],
    ['Faults injected', n(sum(r.faults))],
    ['Bad inputs tried', n(sum(r.badInputs))],
    ['**Records lost**', `**${n(r.recordsLost)}**`],
    ['**Records corrupted**', `**${n(r.recordsCorrupted)}**`],
    [
      '**Security failures**',
      security.length > 0 ? `**${security.map(([k, v]) => `${n(v)} × ${k}`).join('; ')}**` : '**0**'
    ],
    [
      'Longest recovery',
      r.longestRecovery ? `${ms(r.longestRecovery.ms)} (${r.longestRecovery.scenario})` : 'n/a'
    ]
  ]
)}

Verdict: **${verdict}**.

## Faults injected, by kind

${table(
  ['fault', 'count'],
  faults.map(([k, v]) => [k, n(v)])
)}

## Bad inputs tried, by kind

${table(
  ['input', 'count'],
  bad.map(([k, v]) => [k, n(v)])
)}

## Recovery times

${table(
  ['scenario', 'time'],
  recoveries.map(([k, v]) => [k, ms(v)])
)}

${FAULTS_HEADING}

${faultsSection(fr)}

## Hostile-input bounds

What one worst-case record costs a receiving node, measured on this run (\`bounds.spec.ts\`):
before is the cost without the bound (the raw primitive), after what the node spends now.

${table(
  ['cost', 'before', 'after', 'how measured'],
  (r.costs ?? []).map((c) => [
    c.what,
    c.before === null ? 'n/a' : withUnit(c.before, c.unit),
    withUnit(c.after, c.unit),
    c.how
  ])
)}

## What each suite showed

${r.suites
  .map(
    (s) =>
      `### ${s.name}\n\n${s.checks.map((c) => `- ✓ ${c}`).join('\n') || '- (no check passed)'}${
        s.notes.length > 0 ? `\n\nNotes:\n\n${s.notes.map((x) => `- ${x}`).join('\n')}` : ''
      }`
  )
  .join('\n\n')}

## Findings

Problems this suite found in the packages it exercises. A bug still open is pinned by a test
marked \`it.fails\`; a fixed one by a plain test asserting the fixed behaviour:

${FINDINGS.map((f) => `- **${f.where}**: ${f.what} Fix: ${f.fix}`).join('\n')}

## How the suite works

| file | what it does |
|---|---|
| \`reputation.spec.ts\` | unit tests of the peer reputation system (\`@chorus/dht\`: decay, bans, gater, rate limiter, hooks) on a fake clock |
| \`fuzz.spec.ts\` | fast-check: UCXL parser, envelope decoder and CHORUS record validator (random bytes, random CBOR, every mutation of a signed record), roles file parser, the HTTP API of a real in-process agent (bodies, query strings, tokens) |
| \`partition.spec.ts\` | 6 nodes split 3/3 by a connection gater, writes on both sides, heal, every record read back from every node |
| \`crash.spec.ts\` | 4 node processes (\`fixtures/node.mjs\`: LibP2PDHT + storage on a data directory); writers stream records and versions; writer and replicas killed with SIGKILL mid-stream and restarted on the same directory, several cycles |
| \`slow-peer.spec.ts\` (\`slow.spec.ts\`) | one peer answers DHT requests 1.5 s late, another stops answering in the middle of reads; reads and writes from other nodes must succeed within their timeouts |
| \`disk.spec.ts\` | a node's DHT and storage directories on small tmpfs mounts: filled to ENOSPC, then storage restarted on a read-only remount; typed errors, node stays up, nothing stored changes, writes resume |
| \`hostile.spec.ts\` | a liar sends malformed, oversized, badly signed, tampered, replayed-older and forged envelopes and bogus provider records; a flooder floods a protocol; checks what honest nodes store and serve, and that both attackers are banned, disconnected, refused, and readmitted after the ban |
| \`trust.spec.ts\` | a team of 4 honest members (admission, the write rule in every validator, storage and replication in team mode) and three attackers: an outsider with another team's certificate, a read-only member and a rogue member who writes another agent's and another role's addresses, replays, equivocates, backdates, forges holder claims and floods the replicate protocol; checks what every honest node admits, stores, indexes and serves, that honest records stay readable and writable, and that the attackers lose reputation |
| \`bounds.spec.ts\` | a team member writes the worst record it can (about 11,000 recipient stanzas in one record): the cost before (the old validation and the reader's unwrap loop on the raw primitive) and after (the node's validator and reader), the longest event-loop block opening the worst record still accepted, and the signature verifications per received record on a real 2-node network |
| \`access.spec.ts\` | roles without permission (retrieve, raw decrypt, list, search), private network key, audit log tampering (edit, removal, reordering, truncation), and a scan of every log of a full \`chorus-node demo\` run for age identities, peer key seeds and API tokens |

Known limits: a test marked \`it.fails\` documents a bug found by this suite that is still open (it
passes while the bug exists and fails once it is fixed, to be turned into a plain test); see the notes above.
`
writeFileSync(output, md)
console.log(`wrote ${output}`)
