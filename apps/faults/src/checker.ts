/**
 * The checker: reads a history and reports every violation of the properties the store promises.
 *
 * - `lost-write`: an acknowledged write (address, version, value) is not readable by its exact
 *   version in the final phase, or reads back with another value.
 * - `read-your-writes`: after a session's acknowledged write of version v, a later read of the
 *   latest version by the same session sees less than v.
 * - `monotonic-reads`: a session's read of the latest version sees less than an earlier read of
 *   the same address by the same session.
 * - `fork`: two different envelopes (or values) for one version, a version whose `previous` is not
 *   the hash of the version before it, or a version 1 that names a predecessor.
 * - `gap`: a version between 1 and the final latest that no final read could find.
 * - `convergence`: after the faults stopped and the settling time, a node's last final read of an
 *   address is not at least its latest acknowledged version (or fails).
 *
 * A session is one client process bound to one incarnation of one node (Jepsen's process): it
 * ends when that node's process restarts, since what a node caches in memory for reads is not
 * promised to outlive it.
 */
import type { History, Op } from './history.js'

export const PROPERTIES = [
  'lost-write',
  'read-your-writes',
  'monotonic-reads',
  'fork',
  'gap',
  'convergence'
] as const
export type Property = (typeof PROPERTIES)[number]

export interface Violation {
  property: Property
  address: string
  /** What was expected and what was seen, in words. */
  detail: string
  /** Indices of the operations that show it. */
  ops: number[]
}

export interface CheckResult {
  valid: boolean
  violations: Violation[]
  /** Violations by property (every property present, 0 when none). */
  counts: Record<Property, number>
  /** Operations by kind and outcome: `write ok`, `read info`, ... (workload only, not the final phase). */
  operations: Record<string, number>
  /** Addresses whose final reads disagreed on the latest version while all held at least the acknowledged one. */
  divergent: string[]
}

interface Completed {
  invoke: Op
  done: Op
}

/** Pairs each completion with its invocation (an invocation with no completion counts as `info`). */
function completions(history: Pick<History, 'ops'>): Completed[] {
  const byIndex = new Map(history.ops.map((o) => [o.index, o]))
  const out: Completed[] = []
  const completed = new Set<number>()
  for (const op of history.ops) {
    if (op.type === 'invoke') continue
    const invoke = op.invokeIndex === undefined ? undefined : byIndex.get(op.invokeIndex)
    if (invoke === undefined || invoke.type !== 'invoke') continue
    completed.add(invoke.index)
    out.push({ invoke, done: op })
  }
  for (const op of history.ops)
    if (op.type === 'invoke' && !completed.has(op.index))
      out.push({ invoke: op, done: { ...op, type: 'info', error: 'no completion' } })
  return out.sort((a, b) => a.invoke.index - b.invoke.index)
}

const isLatestRead = (c: Completed) => c.invoke.kind === 'read' && c.invoke.askedVersion === undefined
const versionOf = (op: Op): number => op.seen?.version ?? 0

export function checkHistory(history: Pick<History, 'ops'>): CheckResult {
  const all = completions(history)
  const violations: Violation[] = []
  const add = (property: Property, address: string, detail: string, ops: number[]) =>
    violations.push({ property, address, detail, ops })
  const operations: Record<string, number> = {}
  for (const c of all) {
    if (c.invoke.final) continue
    const k = `${c.invoke.kind} ${c.done.type}`
    operations[k] = (operations[k] ?? 0) + 1
  }
  const ok = all.filter((c) => c.done.type === 'ok')
  const okWrites = ok.filter((c) => c.invoke.kind === 'write' && c.done.seen !== undefined)

  // ---- sessions: read-your-writes and monotonic reads ----
  const bySession = new Map<string, Completed[]>()
  for (const c of all) {
    if (c.invoke.final) continue
    const key = `${c.invoke.process}/${c.invoke.node}/${c.invoke.incarnation}`
    const list = bySession.get(key) ?? []
    list.push(c)
    bySession.set(key, list)
  }
  for (const ops of bySession.values()) {
    const written = new Map<string, { version: number; op: number; done: number }>()
    const seen = new Map<string, { version: number; op: number; done: number }>()
    for (const c of ops) {
      const a = c.invoke.address
      if (c.done.type !== 'ok') continue
      if (c.invoke.kind === 'write' && c.done.seen !== undefined) {
        const prev = written.get(a)
        if (prev === undefined || c.done.seen.version > prev.version)
          written.set(a, { version: c.done.seen.version, op: c.done.index, done: c.done.time })
        continue
      }
      if (!isLatestRead(c)) continue
      const v = versionOf(c.done)
      const w = written.get(a)
      if (w !== undefined && c.invoke.time >= w.done && v < w.version)
        add('read-your-writes', a, `wrote version ${w.version}, then read version ${v}`, [w.op, c.done.index])
      const s = seen.get(a)
      if (s !== undefined && c.invoke.time >= s.done && v < s.version)
        add('monotonic-reads', a, `read version ${s.version}, then version ${v}`, [s.op, c.done.index])
      if (s === undefined || v > s.version) seen.set(a, { version: v, op: c.done.index, done: c.done.time })
    }
  }

  // ---- chains: one envelope and one value per version, each linked to the one before ----
  const versions = new Map<
    string,
    Map<number, { hash: string; previous: string | null; digest?: string | null; op: number }>
  >()
  for (const c of ok) {
    const s = c.done.seen
    if (s === undefined) continue
    const a = c.invoke.address
    const chain = versions.get(a) ?? new Map()
    versions.set(a, chain)
    if (s.version === 1 && s.previous !== null)
      add('fork', a, 'version 1 names a previous version', [c.done.index])
    if (s.version > 1 && s.previous === null)
      add('fork', a, `version ${s.version} names no previous version`, [c.done.index])
    const digest = c.invoke.kind === 'write' ? c.invoke.digest : c.done.digest
    const known = chain.get(s.version)
    if (known === undefined) {
      chain.set(s.version, { hash: s.envelopeHash, previous: s.previous, digest, op: c.done.index })
      continue
    }
    if (known.hash !== s.envelopeHash)
      add('fork', a, `two envelopes for version ${s.version}`, [known.op, c.done.index])
    else if (known.digest != null && digest != null && known.digest !== digest)
      add('fork', a, `two values for version ${s.version}`, [known.op, c.done.index])
    else if (known.digest == null && digest != null) known.digest = digest
  }
  for (const [a, chain] of versions) {
    for (const [v, e] of chain) {
      const before = chain.get(v - 1)
      if (v > 1 && before !== undefined && e.previous !== before.hash)
        add('fork', a, `version ${v} does not chain to the version ${v - 1} that was seen`, [before.op, e.op])
    }
  }

  // ---- final phase: acknowledged writes readable by version, no gap, convergence ----
  const finals = all.filter((c) => c.invoke.final === true)
  if (finals.length > 0 || okWrites.length > 0) {
    const exact = new Map<string, Completed[]>()
    for (const c of finals)
      if (c.invoke.askedVersion !== undefined) {
        const k = `${c.invoke.address}#${c.invoke.askedVersion}`
        exact.set(k, [...(exact.get(k) ?? []), c])
      }
    const foundExact = (a: string, v: number) =>
      (exact.get(`${a}#${v}`) ?? []).filter((c) => c.done.type === 'ok' && c.done.seen?.version === v)
    for (const w of okWrites) {
      const a = w.invoke.address
      const v = w.done.seen!.version
      const reads = foundExact(a, v)
      if (reads.length === 0) {
        add('lost-write', a, `acknowledged version ${v} not readable in the final phase`, [w.done.index])
      } else {
        const other = reads.find((r) => r.done.digest !== w.invoke.digest)
        if (other !== undefined)
          add('lost-write', a, `acknowledged version ${v} reads back with another value`, [
            w.done.index,
            other.done.index
          ])
      }
    }
    const maxAcked = new Map<string, { version: number; op: number }>()
    for (const w of okWrites) {
      const m = maxAcked.get(w.invoke.address)
      if (m === undefined || w.done.seen!.version > m.version)
        maxAcked.set(w.invoke.address, { version: w.done.seen!.version, op: w.done.index })
    }
    const lastLatest = new Map<string, Completed>()
    for (const c of finals) if (isLatestRead(c)) lastLatest.set(`${c.invoke.node}|${c.invoke.address}`, c)
    const latestByAddress = new Map<string, Set<string>>()
    const finalTop = new Map<string, number>()
    for (const c of lastLatest.values()) {
      const a = c.invoke.address
      if (c.done.type === 'ok') {
        finalTop.set(a, Math.max(finalTop.get(a) ?? 0, versionOf(c.done)))
        const set = latestByAddress.get(a) ?? new Set()
        set.add(`${versionOf(c.done)}:${c.done.seen?.envelopeHash ?? ''}`)
        latestByAddress.set(a, set)
      }
    }
    const nodes = new Set(finals.filter(isLatestRead).map((c) => c.invoke.node))
    for (const [a, m] of maxAcked) {
      for (const node of nodes) {
        const c = lastLatest.get(`${node}|${a}`)
        if (c === undefined) add('convergence', a, `node ${node} never read it in the final phase`, [m.op])
        else if (c.done.type !== 'ok')
          add('convergence', a, `node ${node}'s last final read failed (${c.done.error ?? c.done.type})`, [
            m.op,
            c.done.index
          ])
        else if (versionOf(c.done) < m.version)
          add(
            'convergence',
            a,
            `node ${node} read version ${versionOf(c.done)} after acknowledged version ${m.version}`,
            [m.op, c.done.index]
          )
      }
      const top = Math.max(finalTop.get(a) ?? 0, m.version)
      const missing: number[] = []
      for (let v = 1; v <= top; v++) if (foundExact(a, v).length === 0) missing.push(v)
      if (missing.length > 0) add('gap', a, `versions ${missing.join(', ')} of 1..${top} not found`, [m.op])
    }
    const divergent = [...latestByAddress].filter(([, s]) => s.size > 1).map(([a]) => a)
    return finish(violations, operations, divergent)
  }
  return finish(violations, operations, [])
}

function finish(
  violations: Violation[],
  operations: Record<string, number>,
  divergent: string[]
): CheckResult {
  const counts = Object.fromEntries(PROPERTIES.map((p) => [p, 0])) as Record<Property, number>
  for (const v of violations) counts[v.property]++
  return { valid: violations.length === 0, violations, counts, operations, divergent }
}
