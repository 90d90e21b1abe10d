/**
 * The audit log's line format (version 2) and its verification, without any file or state: what
 * {@link AuditLog} writes and what it checks a file against.
 *
 * Two kinds of JSON line, each with `"v":2`:
 * - an entry: `v, seq, ts, op, nodeId, role, keyId, address, version, contentType, size, query,
 *   results, peers, success, error, prev, hash`, where `hash = SHA-256(prev + "\n" + the line's JSON
 *   without hash)` and `prev` is the previous entry's hash (64 zeros for the first);
 * - a checkpoint, written after the entries of each flush: `v, checkpoint, hash, sig`, where
 *   `checkpoint` and `hash` are the seq and hash of the entry just before it, `since` the seq of the
 *   previous checkpoint (0 for the first), and `sig` the node key's Ed25519 signature (base64)
 *   over {@link checkpointMessage}. Through the chain, one signature covers every entry before it;
 *   through `since`, a checkpoint removed or moved is found too.
 */
import { createHash } from 'node:crypto'
import { verifyEd25519 } from './ed25519.js'
import type { AuditVerification } from './types.js'

export const AUDIT_FORMAT = 2
export const GENESIS = '0'.repeat(64)

export type AuditOperation =
  | 'store'
  | 'delete'
  | 'retrieve'
  | 'announce'
  | 'discover'
  | 'index'
  | 'list'
  | 'search'

/** What a caller records; never plaintext, ciphertext or keys. */
export interface AuditInput {
  op: AuditOperation
  /**
   * store, index: the creator role; retrieve: the reader's role (whose key opened the record);
   * list: the role listed.
   */
  role?: string
  /** retrieve: the id of the role key that opened the record (none for content this node wrote). */
  keyId?: string
  /** The base address; none for list and search. */
  address?: string
  version?: number
  contentType?: string
  size?: number
  /** list, search: the query (its fields, never content). */
  query?: Record<string, string | number | boolean>
  /** list, search: how many results were returned. */
  results?: number
  /** announce: how many peers acknowledged the announcement. */
  peers?: number
  success: boolean
  error?: { code: string; message: string }
}

/** A position in the chain: an entry's seq and hash. */
export interface ChainPoint {
  seq: number
  hash: string
}

export function entryHash(prev: string, body: string): string {
  return createHash('sha256').update(prev).update('\n').update(body).digest('hex')
}

/** The entry line (with its newline) and its hash, chained after `prev`. */
export function entryLine(
  input: AuditInput,
  seq: number,
  prev: string,
  nodeId: string
): { line: string; hash: string } {
  // Fixed key order: the hash is over this exact JSON text.
  const body = {
    v: AUDIT_FORMAT,
    seq,
    ts: new Date().toISOString(),
    op: input.op,
    nodeId,
    role: input.role ?? null,
    keyId: input.keyId ?? null,
    address: input.address ?? null,
    version: input.version ?? null,
    contentType: input.contentType ?? null,
    size: input.size ?? null,
    query: input.query ?? null,
    results: input.results ?? null,
    peers: input.peers ?? null,
    success: input.success,
    error: input.error ?? null,
    prev
  }
  const text = JSON.stringify(body)
  const hash = entryHash(prev, text)
  return { line: `${text.slice(0, -1)},"hash":"${hash}"}\n`, hash }
}

/**
 * The bytes a checkpoint signs: a domain tag, the seq of the previous checkpoint, and the seq and
 * hash of the entry it covers.
 */
export function checkpointMessage(since: number, at: ChainPoint): Uint8Array {
  return new TextEncoder().encode(`chorus-audit-checkpoint/${AUDIT_FORMAT}\n${since}\n${at.seq}\n${at.hash}`)
}

export function checkpointLine(since: number, at: ChainPoint, signature: Uint8Array): string {
  const sig = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64')
  return `${JSON.stringify({ v: AUDIT_FORMAT, checkpoint: at.seq, since, hash: at.hash, sig })}\n`
}

/** Where a line continues the chain from: an entry's or a checkpoint's seq and hash. */
export function chainPointOf(line: string): ChainPoint | undefined {
  try {
    const o = JSON.parse(line) as { seq?: unknown; checkpoint?: unknown; hash?: unknown }
    const seq = o.checkpoint ?? o.seq
    return typeof seq === 'number' && typeof o.hash === 'string' ? { seq, hash: o.hash } : undefined
  } catch {
    return undefined
  }
}

/** Whether a line is of the unsigned format 1 (no `v`). */
export function isUnsignedLine(line: string): boolean {
  try {
    const o = JSON.parse(line) as unknown
    return typeof o === 'object' && o !== null && !('v' in o)
  } catch {
    return false
  }
}

/** A point the file must reach with the same hash there, and what to say when it does not. */
export interface ChainAnchor extends ChainPoint {
  /** Who recorded it, for the reason: e.g. 'the index database', 'this running node'. */
  source: string
}

const UNSIGNED =
  'unsigned entry (format 1, written before the audit log was signed): this log cannot be verified'

/**
 * Checks every line of a log: its format, hash, link to the previous entry, each checkpoint's
 * signature with `publicKey` (the node's own key, never one read from the file), that every entry
 * is covered by a checkpoint, and that the chain reaches each anchor with the hash recorded there.
 */
export function verifyAuditText(
  text: string,
  publicKey: Uint8Array,
  anchors: readonly ChainAnchor[]
): AuditVerification {
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  let prev = GENESIS
  let seq = 0
  let covered = 0
  let firstUncovered = 0
  const hashes = new Map<number, string>(anchors.map((a) => [a.seq, '']))
  for (let i = 0; i < lines.length; i++) {
    const bad = (reason: string): AuditVerification => ({ ok: false, entries: seq, line: i + 1, reason })
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(lines[i] ?? '') as Record<string, unknown>
    } catch {
      return bad('not valid JSON')
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return bad('not a JSON object')
    if (!('v' in entry)) return bad(UNSIGNED)
    if (entry.v !== AUDIT_FORMAT) return bad(`unknown format ${JSON.stringify(entry.v)}`)
    if ('checkpoint' in entry) {
      if (entry.checkpoint !== seq || entry.hash !== prev || seq === covered) {
        return bad('checkpoint does not follow the entry it signs: entries removed or reordered')
      }
      if (entry.since !== covered) {
        return bad(
          `checkpoint follows checkpoint ${String(entry.since)}, not ${covered}: a checkpoint was removed or moved`
        )
      }
      const sig = typeof entry.sig === 'string' ? Buffer.from(entry.sig, 'base64') : Buffer.alloc(0)
      if (!verifyEd25519(publicKey, checkpointMessage(covered, { seq, hash: prev }), sig)) {
        return bad(
          "checkpoint signature does not verify with this node's key: the log was rewritten, or written by another key"
        )
      }
      covered = seq
      continue
    }
    const hash = entry.hash
    if (typeof hash !== 'string') return bad('no hash')
    delete entry.hash
    if (entry.seq !== seq + 1) {
      return bad(`sequence ${String(entry.seq)} follows ${seq}: entries removed or reordered`)
    }
    if (entry.prev !== prev) return bad('does not link to the previous entry: entries removed or reordered')
    if (entryHash(prev, JSON.stringify(entry)) !== hash) return bad('hash mismatch: the entry was edited')
    if (seq === covered) firstUncovered = i + 1
    prev = hash
    seq++
    if (hashes.has(seq)) hashes.set(seq, hash)
  }
  if (seq > covered) {
    return {
      ok: false,
      entries: seq,
      line: firstUncovered,
      reason: `entries ${covered + 1} to ${seq} are covered by no signed checkpoint: appended or rewritten without this node's key`
    }
  }
  for (const a of anchors) {
    if (a.seq === 0) continue
    if (a.seq > seq) {
      return {
        ok: false,
        entries: seq,
        line: lines.length + 1,
        reason: `the log ends at entry ${seq}, ${a.source} records entry ${a.seq}: entries removed (the file was truncated or replaced)`
      }
    }
    if (hashes.get(a.seq) !== a.hash) {
      return {
        ok: false,
        entries: seq,
        reason: `entry ${a.seq} is not the one ${a.source} records: the log was rewritten`
      }
    }
  }
  return { ok: true, entries: seq }
}
