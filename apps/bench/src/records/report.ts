/**
 * The records benchmark in the results and in BENCHMARKS.md: its headline figures (each beside its
 * same-run baseline) and its section, with the issue's targets marked met or not met.
 */
import type { Figure } from '../results.js'
import type { RecordsResult, RecordsRun, RecordsSizeResult, RepairResult } from './types.js'

type Available = Extract<RecordsResult, { available: true }>

const n = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a')
const f1 = (v: number): string => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : 'n/a')
const mib = (b: number): string => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MiB` : 'n/a')
const kib = (b: number | undefined): string =>
  b != null && Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KiB` : 'n/a'
const ratio = (a: number, b: number | undefined): number | undefined =>
  b != null && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : undefined
const rx = (r: number | undefined): string => (r == null ? '-' : `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}x`)

const last = <T>(list: T[]): T | undefined => list[list.length - 1]
const readyMs = (s: RecordsSizeResult): number => ('readyMs' in s.restart ? s.restart.readyMs : Number.NaN)

/** Worst RSS growth of one node from the first size to the last: [ratio, node]. */
function rssGrowth(run: RecordsRun): { ratio: number; node: string } | undefined {
  const a = run.sizes[0]
  const b = last(run.sizes)
  if (a == null || b == null || a === b) return undefined
  let worst: { ratio: number; node: string } | undefined
  for (const x of b.rss) {
    const base = a.rss.find((y) => y.node === x.node)?.bytes
    const r = ratio(x.bytes, base)
    if (r != null && (worst == null || r > worst.ratio)) worst = { ratio: r, node: x.node }
  }
  return worst
}

export function recordsFigures(r: RecordsResult | undefined): Figure[] {
  if (r == null || !r.available) return []
  const out: Figure[] = []
  const raw = r.raw
  for (const run of r.runs) {
    for (const s of run.sizes) {
      const p = `records (${run.via}) ${n(s.records)}:`
      out.push({
        name: `${p} stores/s until idle`,
        value: s.storesPerSecond,
        unit: 'ops/s',
        ...(raw != null
          ? { baseline: { name: `raw kad-dht puts/s (${raw.concurrency} in flight)`, value: raw.perSecond } }
          : {}),
        note: `${s.failures} failed; ${f1(s.storesPerSecondAtQuorum)}/s at quorum`
      })
      const first = r.runs.find((x) => x === run)?.sizes[0]
      const maxRss = Math.max(...s.rss.map((x) => x.bytes).filter(Number.isFinite))
      const firstMax =
        first == null ? undefined : Math.max(...first.rss.map((x) => x.bytes).filter(Number.isFinite))
      out.push({
        name: `${p} largest node RSS`,
        value: maxRss,
        unit: 'bytes',
        ...(firstMax != null && first !== s
          ? { baseline: { name: `largest node RSS at ${n(first!.records)}`, value: firstMax } }
          : {})
      })
      out.push({ name: `${p} restart to ready`, value: readyMs(s), unit: 'ms', note: s.restart.node })
    }
    if (run.reprovide != null) {
      const rp = run.reprovide
      out.push({
        name: `records (${run.via}): reprovide messages per interval`,
        value: rp.messages,
        unit: 'messages',
        baseline: { name: 'per-key kad provides of the held records', value: rp.perKeyProvideMessages },
        note: rp.operations ? `from ${rp.source} x messages per kad provide` : rp.source
      })
    }
    if (run.repair != null) {
      const rp = run.repair
      out.push({
        name: `records (${run.via}): bytes a wiped node received to refill`,
        value: refillBytes(rp),
        unit: 'bytes',
        baseline: { name: 'bytes of what it should hold (full transfer)', value: refillGoalBytes(rp) },
        note: `${rp.refilled ? 'refilled' : `not refilled: ${n(rp.heldAfter)}/${n(refillGoal(rp))} keys`} in ${f1(rp.ms / 1000)} s; it lost ${n(rp.lostValues)} values, ${n(rp.targetValues)} of them its own to hold; ${refillSource(rp)}`
      })
    }
    if (run.readable != null) {
      out.push({
        name: `records (${run.via}): records readable from every agent`,
        value: run.readable.ok,
        unit: 'reads',
        note: `${run.readable.failed} of ${n(run.readable.checked)} failed`
      })
    }
  }
  return out
}

interface Target {
  what: string
  value: string
  met: boolean | undefined
}

function targets(r: Available, run: RecordsRun): Target[] {
  const top = last(run.sizes)
  const at =
    top == null
      ? ''
      : top.records === 100_000
        ? ''
        : ` (measured at ${n(top.records)}; the target is at 100,000)`
  const out: Target[] = []
  if (top != null) {
    const vsRaw = ratio(top.storesPerSecond, r.raw?.perSecond)
    out.push({
      what: `stores/s until idle >= 5x raw kad-dht put/s and >= 250${at}`,
      value: `${f1(top.storesPerSecond)}/s, ${rx(vsRaw)} raw`,
      met: vsRaw == null ? undefined : vsRaw >= 5 && top.storesPerSecond >= 250
    })
    const ms = readyMs(top)
    out.push({
      what: `restart to ready < 2 s at 100,000${at}`,
      value: `${n(ms)} ms`,
      met: Number.isFinite(ms) ? ms < 2000 : undefined
    })
    const g = rssGrowth(run)
    const from = run.sizes[0]?.records ?? 0
    const span =
      top.records === 100_000 && from === 1000
        ? ''
        : ` (measured from ${n(from)} to ${n(top.records)}; the target is from 1,000 to 100,000)`
    out.push({
      what: `RSS at 100,000 within 1.5x of the same node at 1,000${span}`,
      value: g == null ? 'one size only' : `${rx(g.ratio)} (${g.node})`,
      met: g == null ? undefined : g.ratio <= 1.5
    })
  }
  if (run.reprovide != null) {
    const q = ratio(run.reprovide.messages, run.reprovide.perKeyProvideMessages)
    out.push({
      what: `reprovide messages <= 1 % of per-key provides (one interval of ${f1(run.reprovide.intervalMs / 1000)} s observed${run.reprovide.operations ? '; per-key operations converted to messages' : ''})`,
      value: q == null ? 'n/a' : `${(q * 100).toFixed(1)} %`,
      met: q == null ? undefined : q <= 0.01
    })
  }
  if (run.repair != null) {
    const q = ratio(refillBytes(run.repair), refillGoalBytes(run.repair))
    out.push({
      what: `refill of a wiped node <= 1.2x the bytes it lost of what it should hold (summaries counted: ${refillSource(run.repair)})`,
      value: `${rx(q)}${run.repair.refilled ? '' : `, not refilled (${n(run.repair.heldAfter)}/${n(refillGoal(run.repair))} keys)`}`,
      met: q == null ? false : run.repair.refilled && q <= 1.2
    })
  }
  const failures = run.sizes.reduce((s, x) => s + x.failures, 0)
  out.push({
    what: 'no store failed; every record readable from every agent',
    value: `${failures} failed stores; ${run.readable == null ? 'not checked' : `${n(run.readable.ok)}/${n(run.readable.checked)} reads`}`,
    met: run.readable == null ? false : failures === 0 && run.readable.failed === 0
  })
  return out
}

const mark = (m: boolean | undefined): string => (m == null ? 'not measured' : m ? 'met' : 'not met')
const row = (cells: string[]): string => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`

export function recordsSection(r: RecordsResult | undefined): string {
  const out = ['## Records benchmark (apps/bench)', '']
  if (r == null) {
    out.push(
      'Not run in this run (a run from before it existed, `--only system` or `--only simulation`, or a quick run without `BENCH_RECORDS_SIZES`). It runs in a full `pnpm bench`, in `pnpm bench --only bench`, or alone with `node apps/bench/dist/bin/bench.js --only records`.'
    )
    return out.join('\n')
  }
  if (!r.available) {
    out.push(`Not available in this run: ${r.reason}.`)
    return out.join('\n')
  }
  out.push(
    `Layout: ${r.layout}. Records of ${r.recordBytes} bytes, ${r.concurrency} stores in flight, sizes ${r.sizes.map(n).join(' / ')} (cumulative: each size writes the difference). Stores/s count until the writer's background work is idle. Baselines, same run: raw @libp2p/kad-dht puts/s on ${r.raw?.concurrency ?? r.concurrency} in flight; per-key kad provides (messages of one provide measured on ${r.raw?.provideSamples ?? 0} keys, extrapolated to every key each node holds); the full transfer of what a wiped node held.`,
    ''
  )
  if (r.raw != null)
    out.push(
      `Raw kad-dht: ${f1(r.raw.perSecond)} puts/s (${r.raw.puts} puts, ${r.raw.failed} failed); ${f1(r.raw.messagesPerProvide)} messages per kad provide.`,
      ''
    )
  if (r.rawError != null) out.push(`Raw kad-dht baseline failed: ${r.rawError}.`, '')
  for (const note of r.notes) out.push(`- ${note}`)
  if (r.notes.length > 0) out.push('')
  for (const run of r.runs) {
    out.push(
      `### Written through ${run.via === 'http' ? 'the HTTP API (POST /v1/content)' : 'the library (createAgent, no HTTP)'}`,
      ''
    )
    if (run.error != null) out.push(`**Stopped early: ${run.error}**`, '')
    if (run.writerExited != null)
      out.push(
        `**The library writer's process exited during the run (${run.writerExited}); see the bench's output.**`,
        ''
      )
    out.push(
      row([
        'Records',
        'Stores/s until idle',
        'vs raw put/s',
        'Stores/s at quorum',
        'Failed',
        'RSS per node',
        'Restart to ready'
      ]),
      row(['---', '---', '---', '---', '---', '---', '---'])
    )
    for (const s of run.sizes) {
      out.push(
        row([
          n(s.records),
          f1(s.storesPerSecond),
          rx(ratio(s.storesPerSecond, r.raw?.perSecond)),
          f1(s.storesPerSecondAtQuorum),
          `${s.failures}${
            Object.keys(s.errors).length > 0
              ? ` (${Object.entries(s.errors)
                  .map(([k, v]) => `${v} x ${k}`)
                  .join('; ')})`
              : ''
          }`,
          s.rss.map((x) => `${x.node} ${mib(x.bytes)}`).join(', '),
          'readyMs' in s.restart
            ? `${n(s.restart.readyMs)} ms (${s.restart.node})`
            : `failed: ${s.restart.error}`
        ])
      )
    }
    out.push('')
    const rp = run.reprovide
    if (rp != null)
      out.push(
        `Reprovide over one interval (${f1(rp.windowMs / 1000)} s): ${n(rp.messages)} messages${rp.bytes != null ? `, ${kib(rp.bytes)}` : ''} (${rp.operations ? `${rp.source} x ${f1(r.raw?.messagesPerProvide ?? Number.NaN)} messages per kad provide: the per-key reprovide of today's code` : rp.source}) for ${n(rp.heldKeys)} held keys (versions and heads, summed over the nodes)${rp.socketBytesSent == null ? '' : `; all agents' TCP sockets sent ${kib(rp.socketBytesSent)} in the window (every protocol: an upper bound)`}; per-key kad provides: ${n(rp.perKeyProvideMessages)} messages; ratio ${rx(ratio(rp.messages, rp.perKeyProvideMessages))}.`,
        ''
      )
    const re = run.repair
    if (re != null)
      out.push(
        `Repair of ${re.node} after its data directory was wiped (identity kept): it held ${n(re.heldBefore)} keys, ${n(re.lostValues)} values of ${kib(re.lostBytes)} in all (${re.lostSource}), ${n(re.targetValues)} values of ${kib(re.targetBytes)} of them its own to hold (it is among the 3 peers closest to the key; the others were spares of hedged pushes, not brought back); ${re.refilled ? 'refilled' : `not refilled, ${n(re.heldAfter)} keys held`} after ${f1(re.ms / 1000)} s; ${re.socketBytesReceived == null ? '' : `its TCP sockets received ${kib(re.socketBytesReceived)} (every protocol, summaries and framing included); `}the other nodes sent ${kib(re.sentBytes)} of repair to any peer (${re.sentMessages} messages, ${re.source}; this includes the copies they placed on each other while it was away); ratio of what it received to the full transfer of what it should hold ${rx(ratio(refillBytes(re), refillGoalBytes(re)))}, of everything it lost ${rx(ratio(refillBytes(re), re.lostBytes))}${re.socketBytesReceived == null ? " (from the senders' counters: its sockets were not read)" : ''}; the senders' repair bytes are ${rx(ratio(re.sentBytes, refillGoalBytes(re)))} of it.`,
        ''
      )
    const rd = run.readable
    if (rd != null)
      out.push(
        `Read back: ${n(rd.ok)} of ${n(rd.checked)} reads ok (every record from each of ${rd.nodes} agents through GET /v1/content, content compared) in ${f1(rd.ms / 1000)} s${
          rd.failed > 0
            ? `; failures: ${Object.entries(rd.errors)
                .map(([k, v]) => `${v} x ${k}`)
                .join('; ')}`
            : ''
        }.`,
        ''
      )
    out.push('Targets (issue #18):', '', row(['Target', 'Measured', '']), row(['---', '---', '---']))
    for (const t of targets(r, run)) out.push(row([t.what, t.value, mark(t.met)]))
    out.push('')
  }
  out.push(`Records benchmark wall time: ${f1(r.durationMs / 1000)} s.`)
  return out.join('\n')
}

/**
 * What the refill transferred: every byte the wiped node received on its TCP sockets over the
 * refill (all protocols: records, summaries, framing; an upper bound), or, where its sockets could
 * not be read, the repair bytes the other nodes sent (which also count copies they placed on each
 * other meanwhile).
 */
const refillBytes = (r: RepairResult): number => r.socketBytesReceived ?? r.sentBytes
const refillSource = (r: RepairResult): string =>
  r.socketBytesReceived == null
    ? 'the repair bytes the other nodes sent'
    : 'every byte the node received on its TCP sockets'

/** The refill's goal in keys: what it should hold, or (unknown) what it held. */
const refillGoal = (r: RepairResult): number =>
  Number.isFinite(r.targetValues) ? r.targetValues : r.heldBefore
/** The refill's full transfer in bytes: of what it should hold, or (unknown) of everything it lost. */
const refillGoalBytes = (r: RepairResult): number =>
  Number.isFinite(r.targetBytes) ? r.targetBytes : r.lostBytes
