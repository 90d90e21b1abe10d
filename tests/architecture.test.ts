/**
 * The rules of docs/ARCHITECTURE.md that a machine can check: small source files, one error
 * model (every exported error on ChorusError, no two packages exporting an error class of the
 * same name, no classification of errors by string literals), no copies of the shared helpers.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ChorusError } from '../packages/common/dist/index.js'

const root = join(import.meta.dirname, '..')
const sourceRoots = [
  ...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')),
  join(root, 'apps', 'node', 'src')
]

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (path.endsWith('.ts')) out.push(path)
  }
  return out
}

const files = sourceRoots
  .flatMap((dir) => sourceFiles(dir))
  .map((path) => ({
    path: relative(root, path),
    text: readFileSync(path, 'utf8')
  }))

/** A file above this many lines says at its top why (a line containing "Why it is long:"). */
const MAX_LINES = 400

describe('source files', () => {
  it('are at most about 400 lines, or say at their top why not', () => {
    const long = files
      .filter((f) => f.text.split('\n').length > MAX_LINES)
      .filter((f) => !/Why it is long:/.test(f.text.split('\n').slice(0, 30).join('\n')))
      .map((f) => `${f.path}: ${f.text.split('\n').length} lines`)
    expect(long).toEqual([])
  })

  it('never classify errors by comparing a name or code to a string literal', () => {
    // `err.name === 'NotFoundError'`, `e.code === 'DHT_NOT_FOUND'`, `error?.code === 'UCXL-404-…'`.
    // Not ours to give an isInstance(), so compared by name where they are met: platform errno
    // codes (`'ENOENT'`), the platform's AbortError/TimeoutError (only in @chorus/common's
    // isAbortError()), and libp2p's stream errors, whose `name` is their documented contract.
    const foreign = /'(?:InvalidDataLengthError|UnsupportedProtocolError|StreamResetError|StreamStateError)'/
    const pattern =
      /\b(?:err|e|error|cause|reason)\??\.(?:name|code)\s*[!=]==?\s*'(?:[A-Za-z]*Error|[A-Z]+_[A-Z_]+|UCXL-[^']*)'/
    const hits = files.flatMap((f) =>
      f.text
        .split('\n')
        .map((line, i) => ({ line, at: `${f.path}:${i + 1}` }))
        .filter(({ line }) => pattern.test(line))
        .filter(({ line }) => !/'E[A-Z]+'/.test(line))
        .filter(({ line }) => !foreign.test(line))
        .filter(({ at }) => !at.startsWith('packages/common/src/errors/error-text.ts'))
        .filter(({ at }) => !at.startsWith('packages/dht/src/libp2p/kad-internals.ts'))
        .map(({ at, line }) => `${at}: ${line.trim()}`)
    )
    expect(hits).toEqual([])
  })

  it('keep no copy of the shared helpers (they live in @chorus/common, @chorus/dht, @chorus/ucxl)', () => {
    const copies: Array<[RegExp, string]> = [
      [/const silent\w*: Logger = /, 'a silent logger (silentLogger of @chorus/common)'],
      [
        /export function (?:abortError|throwIfAborted|anySignal|timeoutSignal|waitAtMost|withTimeout)\b/,
        'an abort helper'
      ],
      [/new DatabaseSync\(/, 'SQLite opening (openDatabase of @chorus/common)'],
      [
        /export function (?:xorDistance|keyPosition|peerPosition)\b/,
        'the key space (@chorus/dht keyspace.ts)'
      ],
      [/export function (?:headKey|versionKey|parseRecordKey)\b/, 'the record key layout (@chorus/ucxl)'],
      [/rejectDuplicateMapKeys: true/, 'strict CBOR decoding (STRICT_CBOR_DECODE_OPTIONS of @chorus/common)'],
      [/open\(tmp, 'wx'/, 'an atomic file write (writeFileAtomic of @chorus/common)']
    ]
    const owners: Record<string, string[]> = {
      'a silent logger (silentLogger of @chorus/common)': ['packages/common/src/logger.ts'],
      'an abort helper': ['packages/common/src/abort.ts'],
      'SQLite opening (openDatabase of @chorus/common)': ['packages/common/src/sqlite.ts'],
      'the key space (@chorus/dht keyspace.ts)': ['packages/dht/src/keyspace.ts'],
      'the record key layout (@chorus/ucxl)': ['packages/ucxl/src/record-keys.ts'],
      'strict CBOR decoding (STRICT_CBOR_DECODE_OPTIONS of @chorus/common)': ['packages/common/src/cbor.ts'],
      'an atomic file write (writeFileAtomic of @chorus/common)': ['packages/common/src/files.ts']
    }
    const found = files.flatMap((f) =>
      copies
        .filter(([re, what]) => re.test(f.text) && !(owners[what] ?? []).includes(f.path))
        .map(([, what]) => `${f.path}: ${what}`)
    )
    expect(found).toEqual([])
  })
})

/** An error class as a value: what the checks compare. */
type ErrorClass = abstract new (...args: never[]) => Error

const packages = ['common', 'ucxl', 'crypto', 'team', 'dht', 'storage', 'replication', 'hybrid', 'client']

async function exportedErrorClasses(): Promise<Array<{ pkg: string; name: string; cls: ErrorClass }>> {
  const out: Array<{ pkg: string; name: string; cls: ErrorClass }> = []
  for (const pkg of packages) {
    const mod = (await import(pathToFileURL(join(root, 'packages', pkg, 'dist', 'index.js')).href)) as Record<
      string,
      unknown
    >
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === 'function' && value.prototype instanceof Error) {
        out.push({ pkg, name, cls: value as ErrorClass })
      }
    }
  }
  return out
}

describe('error classes', () => {
  it('every exported error class extends ChorusError', async () => {
    const outside = (await exportedErrorClasses())
      .filter((e) => !(e.cls.prototype instanceof ChorusError) && e.cls !== ChorusError)
      .map((e) => `${e.pkg}: ${e.name}`)
    expect(outside).toEqual([])
  })

  it('no two packages export different error classes of the same name', async () => {
    const byName = new Map<string, Map<ErrorClass, string[]>>()
    for (const e of await exportedErrorClasses()) {
      const classes = byName.get(e.name) ?? new Map<ErrorClass, string[]>()
      classes.set(e.cls, [...(classes.get(e.cls) ?? []), e.pkg])
      byName.set(e.name, classes)
    }
    const clashes = [...byName]
      .filter(([, classes]) => classes.size > 1)
      .map(([name, classes]) => `${name}: ${[...classes.values()].map((p) => p.join('+')).join(' vs ')}`)
    expect(clashes).toEqual([])
  })

  it('every exported error class has a name of its own (the base sets it from the class)', async () => {
    for (const e of await exportedErrorClasses()) {
      expect(e.cls.name).toBe(e.name)
    }
  })
})
