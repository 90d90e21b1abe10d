import { describe, expect, it } from 'vitest'
import {
  checkHistory,
  createHistory,
  type History,
  type Op,
  type Property,
  type VersionSeen
} from '../src/index.js'

// Hand-built histories: each property violated once (the checker must find it, and only it) and
// histories that keep every promise (the checker must find nothing).
const A = 'ucxl://n0:backend_developer@faults:run/*^/c0-k0'
const B = 'ucxl://n1:backend_developer@faults:run/*^/c1-k0'
const h = (n: number) => n.toString(16).padStart(64, '0')
/** Version v of a well-formed chain: envelope hash h(v), previous h(v-1). */
const V = (v: number): VersionSeen => ({
  version: v,
  envelopeHash: h(v),
  previous: v === 1 ? null : h(v - 1)
})
const value = (v: number) => `value-${v}`.padEnd(64, '0')

class Builder {
  readonly history: History = createHistory()
  t = 0
  op(
    kind: 'write' | 'read',
    done: 'ok' | 'fail' | 'info',
    o: {
      process?: number
      node?: number
      incarnation?: number
      address?: string
      askedVersion?: number
      final?: boolean
      seen?: VersionSeen
      digest?: string | null
    }
  ): Op {
    const base = {
      kind,
      process: o.process ?? 0,
      client: o.process ?? 0,
      node: o.node ?? 0,
      incarnation: o.incarnation ?? 1,
      address: o.address ?? A,
      ...(o.askedVersion !== undefined ? { askedVersion: o.askedVersion } : {}),
      ...(o.final ? { final: true } : {})
    }
    const invoke = this.history.add({
      ...base,
      type: 'invoke',
      time: this.t++,
      ...(kind === 'write' ? { digest: o.digest ?? null } : {})
    })
    return this.history.add({
      ...base,
      type: done,
      time: this.t++,
      invokeIndex: invoke.index,
      ...(kind === 'write' ? { digest: o.digest ?? null } : {}),
      ...(done === 'ok' && o.seen !== undefined ? { seen: o.seen } : {}),
      ...(done === 'ok' && kind === 'read' ? { digest: o.digest === undefined ? null : o.digest } : {}),
      ...(done !== 'ok' ? { error: 'x' } : {})
    })
  }
  write(v: number, o: { process?: number; node?: number; address?: string; incarnation?: number } = {}) {
    return this.op('write', 'ok', { ...o, seen: V(v), digest: value(v) })
  }
  read(v: number, o: { process?: number; node?: number; address?: string; incarnation?: number } = {}) {
    return this.op('read', 'ok', v === 0 ? o : { ...o, seen: V(v), digest: value(v) })
  }
  /** The final phase: every node reads the latest `top`, and versions 1..top by number. */
  final(address: string, top: number, nodes = [0, 1, 2]) {
    for (const node of nodes)
      this.op('read', 'ok', { node, address, final: true, seen: V(top), digest: value(top), process: -1 })
    for (let v = 1; v <= top; v++)
      this.op('read', 'ok', {
        node: 0,
        address,
        askedVersion: v,
        final: true,
        seen: V(v),
        digest: value(v),
        process: -1
      })
  }
}

const only = (b: Builder, property: Property) => {
  const r = checkHistory(b.history)
  expect(r.valid).toBe(false)
  expect(r.violations.map((v) => v.property)).toContain(property)
  expect(new Set(r.violations.map((v) => v.property))).toEqual(new Set([property]))
  return r
}

describe('checker: histories that keep every promise', () => {
  it('sequential writes and reads, the final phase complete', () => {
    const b = new Builder()
    b.write(1)
    b.read(1)
    b.write(2)
    b.read(2, { process: 1, node: 1 })
    b.read(2)
    b.final(A, 2)
    const r = checkHistory(b.history)
    expect(r.violations).toEqual([])
    expect(r.valid).toBe(true)
    expect(r.operations).toEqual({ 'write ok': 2, 'read ok': 3 })
  })

  it('failed and unknown writes, a later version from an unknown write, lower reads in a new session', () => {
    const b = new Builder()
    b.write(1)
    b.op('write', 'fail', { digest: value(9) })
    // unknown outcome: it happened after all, as version 2
    b.op('write', 'info', { digest: value(2) })
    b.read(2, { process: 1, node: 1 })
    // node 1 restarted: process 1's session ended; a new session may start lower
    b.read(1, { process: 1, node: 1, incarnation: 2 })
    b.op('read', 'fail', { process: 2, node: 2 })
    b.read(0, { process: 3, node: 2, address: B })
    b.final(A, 2)
    const r = checkHistory(b.history)
    expect(r.violations).toEqual([])
    expect(r.operations).toEqual({
      'write ok': 1,
      'write fail': 1,
      'write info': 1,
      'read ok': 3,
      'read fail': 1
    })
  })
})

describe('checker: each violated property is found', () => {
  it('lost-write: an acknowledged version that the final phase cannot read', () => {
    const b = new Builder()
    b.write(1)
    b.write(2)
    b.op('read', 'ok', { node: 0, final: true, seen: V(2), digest: value(2), process: -1 })
    b.op('read', 'ok', { node: 0, askedVersion: 1, final: true, seen: V(1), digest: value(1), process: -1 })
    b.op('read', 'ok', { node: 0, askedVersion: 2, final: true, process: -1 })
    const r = checkHistory(b.history)
    expect(r.violations.filter((v) => v.property === 'lost-write')).toHaveLength(1)
    // version 2 unreadable by number is also a gap in the chain
    expect(r.counts.gap).toBe(1)
  })

  it('lost-write: an acknowledged version that reads back with another value', () => {
    const b = new Builder()
    b.write(1)
    b.final(A, 1)
    b.op('read', 'ok', { node: 1, askedVersion: 1, final: true, seen: V(1), digest: value(7), process: -1 })
    const r = checkHistory(b.history)
    expect(r.counts['lost-write']).toBe(1)
  })

  it('read-your-writes: a writer reads less than it wrote', () => {
    const b = new Builder()
    b.write(1)
    b.write(2)
    b.read(1)
    b.final(A, 2)
    only(b, 'read-your-writes')
  })

  it('read-your-writes: a writer reads nothing after its write', () => {
    const b = new Builder()
    b.write(1)
    b.read(0)
    b.final(A, 1)
    only(b, 'read-your-writes')
  })

  it('monotonic-reads: a reader sees a lower version than it saw before', () => {
    const b = new Builder()
    b.write(3, { process: 0 })
    b.read(3, { process: 5, node: 2 })
    b.read(2, { process: 5, node: 2 })
    // history of versions 1 and 2 seen by other processes
    b.read(1, { process: 6, node: 1 })
    b.final(A, 3)
    only(b, 'monotonic-reads')
  })

  it('fork: two envelopes for one version', () => {
    const b = new Builder()
    b.write(1)
    b.write(2)
    b.op('read', 'ok', {
      process: 3,
      node: 1,
      seen: { version: 2, envelopeHash: h(99), previous: h(1) },
      digest: value(2)
    })
    b.final(A, 2)
    only(b, 'fork')
  })

  it('fork: a version that does not chain to its predecessor', () => {
    const b = new Builder()
    b.write(1)
    b.op('write', 'ok', { seen: { version: 2, envelopeHash: h(2), previous: h(77) }, digest: value(2) })
    b.op('read', 'ok', { node: 0, final: true, seen: V(2), digest: value(2), process: -1 })
    b.op('read', 'ok', { node: 0, askedVersion: 1, final: true, seen: V(1), digest: value(1), process: -1 })
    b.op('read', 'ok', {
      node: 0,
      askedVersion: 2,
      final: true,
      seen: { version: 2, envelopeHash: h(2), previous: h(77) },
      digest: value(2),
      process: -1
    })
    only(b, 'fork')
  })

  it('fork: one version with two values', () => {
    const b = new Builder()
    b.write(1)
    b.read(2, { process: 1, node: 1 })
    b.op('read', 'ok', { process: 2, node: 2, seen: V(2), digest: value(55) })
    b.final(A, 2)
    only(b, 'fork')
  })

  it('fork: a version 1 that names a predecessor, or a later version that names none', () => {
    const b = new Builder()
    b.op('write', 'ok', { seen: { version: 1, envelopeHash: h(1), previous: h(0) }, digest: value(1) })
    b.op('read', 'ok', {
      process: 1,
      node: 1,
      address: B,
      seen: { version: 2, envelopeHash: h(2), previous: null },
      digest: value(2)
    })
    b.final(A, 1)
    const r = checkHistory(b.history)
    expect(r.counts.fork).toBe(2)
  })

  it('gap: a version between 1 and the latest that no final read finds', () => {
    const b = new Builder()
    b.write(1)
    b.op('write', 'info', { digest: value(2) })
    b.write(3)
    for (const node of [0, 1])
      b.op('read', 'ok', { node, final: true, seen: V(3), digest: value(3), process: -1 })
    b.op('read', 'ok', { node: 0, askedVersion: 1, final: true, seen: V(1), digest: value(1), process: -1 })
    b.op('read', 'ok', { node: 0, askedVersion: 2, final: true, process: -1 })
    b.op('read', 'fail', { node: 1, askedVersion: 2, final: true, process: -1 })
    b.op('read', 'ok', { node: 0, askedVersion: 3, final: true, seen: V(3), digest: value(3), process: -1 })
    only(b, 'gap')
  })

  it('convergence: after settling, a node still reads less than the acknowledged latest', () => {
    const b = new Builder()
    b.write(1)
    b.write(2)
    b.final(A, 2, [0, 1])
    // node 2's last final read
    b.op('read', 'ok', { node: 2, final: true, seen: V(1), digest: value(1), process: -1 })
    only(b, 'convergence')
  })

  it('convergence: a node whose last final read fails; an earlier wrong round does not count', () => {
    const b = new Builder()
    b.write(1)
    b.op('read', 'ok', { node: 1, final: true, process: -1 })
    b.final(A, 1, [0, 1])
    b.op('read', 'fail', { node: 2, final: true, process: -1 })
    const r = only(b, 'convergence')
    expect(r.violations).toHaveLength(1)
    expect(r.violations[0]?.detail).toContain('node 2')
  })

  it('an invocation never completed counts as unknown, never as a failure', () => {
    const b = new Builder()
    b.history.add({
      type: 'invoke',
      kind: 'write',
      process: 0,
      client: 0,
      node: 0,
      incarnation: 1,
      address: A,
      time: 0,
      digest: value(1)
    })
    b.final(A, 1)
    const r = checkHistory(b.history)
    expect(r.valid).toBe(true)
    expect(r.operations).toEqual({ 'write info': 1 })
  })
})
