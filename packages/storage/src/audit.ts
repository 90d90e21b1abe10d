import { createHash } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import type { Logger } from '@chorus/dht'
import type { AuditVerification } from './types.js'

export type AuditOperation = 'store' | 'retrieve' | 'announce' | 'discover' | 'index'

/** What a caller records; never plaintext, ciphertext or keys. */
export interface AuditInput {
  op: AuditOperation
  role?: string
  address: string
  version?: number
  contentType?: string
  size?: number
  /** Peers an announcement reached (acknowledged it). */
  peers?: number
  success: boolean
  error?: { code: string; message: string }
}

export interface AuditHeadStore {
  getAuditHead(): { seq: number; hash: string } | undefined
  setAuditHead(seq: number, hash: string): void
}

const GENESIS = '0'.repeat(64)

function entryHash(prev: string, body: string): string {
  return createHash('sha256').update(prev).update('\n').update(body).digest('hex')
}

/**
 * Append-only JSON-lines audit log, hash-chained: each line carries `seq`, `prev` (the previous
 * line's hash) and `hash` = SHA-256(prev + "\n" + the line's JSON without `hash`). The last
 * `seq`/`hash` are also kept in the index database, so truncating the file is detected too.
 * Lines are hashed in call order and written in batches (one appendFile per event-loop turn).
 */
export class AuditLog {
  private seq = 0
  private head = GENESIS
  private buffer: string[] = []
  private flushing: Promise<void> = Promise.resolve()
  private scheduled = false

  constructor(
    private readonly path: string,
    private readonly nodeId: string,
    private readonly heads: AuditHeadStore,
    private readonly logger?: Logger
  ) {
    const h = heads.getAuditHead()
    if (h !== undefined) {
      this.seq = h.seq
      this.head = h.hash
    }
  }

  /** Continues the chain from the file's last line (the file wins over a lagging head). */
  async init(): Promise<void> {
    let fh: Awaited<ReturnType<typeof open>> | undefined
    try {
      fh = await open(this.path, 'r')
      const { size } = await fh.stat()
      const len = Math.min(size, 64 * 1024)
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, size - len)
      const lines = buf
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')
      const last = lines.at(-1)
      if (last === undefined) return
      const entry = JSON.parse(last) as { seq?: unknown; hash?: unknown }
      if (typeof entry.seq === 'number' && typeof entry.hash === 'string' && entry.seq >= this.seq) {
        this.seq = entry.seq
        this.head = entry.hash
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger?.warn(
          { err: (err as Error).message },
          'audit log tail unreadable; continuing from the index head'
        )
      }
    } finally {
      await fh?.close()
    }
  }

  append(input: AuditInput): void {
    const seq = this.seq + 1
    // Fixed key order: the hash is over this exact JSON text.
    const body: Record<string, unknown> = {
      seq,
      ts: new Date().toISOString(),
      op: input.op,
      nodeId: this.nodeId,
      role: input.role ?? null,
      address: input.address,
      version: input.version ?? null,
      contentType: input.contentType ?? null,
      size: input.size ?? null,
      // only announcements carry it, so the lines of other operations keep their layout
      ...(input.peers !== undefined ? { peers: input.peers } : {}),
      success: input.success,
      error: input.error ?? null,
      prev: this.head
    }
    const text = JSON.stringify(body)
    const hash = entryHash(this.head, text)
    this.seq = seq
    this.head = hash
    this.buffer.push(`${text.slice(0, -1)},"hash":"${hash}"}\n`)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        void this.flush()
      })
    }
  }

  /** Writes buffered lines; resolves when everything appended so far is on disk. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.buffer.length === 0) return
      const pending = this.buffer
      const lines = pending.join('')
      const seq = this.seq
      const head = this.head
      this.buffer = []
      // Through a handle, so a write cut short (disk full) is undone: the file keeps whole lines
      // only, and the lines wait for the next flush (their hashes already chain).
      let fh: Awaited<ReturnType<typeof open>> | undefined
      let size: number | undefined
      let written = false
      try {
        fh = await open(this.path, 'a', 0o600)
        size = (await fh.stat()).size
        await fh.writeFile(lines)
        written = true
      } catch (err) {
        this.buffer = [...pending, ...this.buffer]
        if (fh !== undefined && size !== undefined) {
          await fh.truncate(size).catch((e: unknown) => {
            this.logger?.error({ err: (e as Error).message, path: this.path }, 'audit log truncate failed')
          })
        }
        this.logger?.error(
          { err: (err as Error).message, path: this.path, pending: this.buffer.length },
          'audit log write failed; lines kept for the next flush'
        )
      } finally {
        await fh?.close().catch(() => undefined)
      }
      if (!written) return
      // The lines are in the file: a head that cannot be saved (the index's disk is full too)
      // only lags the file, which verify() accepts; never write the lines twice.
      try {
        this.heads.setAuditHead(seq, head)
      } catch (err) {
        this.logger?.warn({ err: (err as Error).message }, 'audit head not saved; it lags the log file')
      }
    })
    return this.flushing
  }

  /** Re-reads the file and checks every line's hash, its link to the previous line and the head. */
  async verify(): Promise<AuditVerification> {
    await this.flush()
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const ok = this.heads.getAuditHead() === undefined
        return ok ? { ok, entries: 0 } : { ok, entries: 0, line: 1, reason: 'the audit log file is missing' }
      }
      throw err
    }
    const lines = text.split('\n')
    if (lines.at(-1) === '') lines.pop()
    let prev = GENESIS
    let seq = 0
    const head = this.heads.getAuditHead()
    let hashAtHead: string | undefined
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? ''
      const bad = (reason: string): AuditVerification => ({ ok: false, entries: i, line: i + 1, reason })
      let entry: Record<string, unknown>
      try {
        entry = JSON.parse(line) as Record<string, unknown>
      } catch {
        return bad('not valid JSON')
      }
      const hash = entry.hash
      if (typeof hash !== 'string') return bad('no hash')
      delete entry.hash
      if (entry.seq !== seq + 1)
        return bad(`sequence ${String(entry.seq)} follows ${seq}: entries removed or reordered`)
      if (entry.prev !== prev) return bad('does not link to the previous entry: entries removed or reordered')
      if (entryHash(prev, JSON.stringify(entry)) !== hash) return bad('hash mismatch: the entry was edited')
      prev = hash
      seq++
      if (seq === head?.seq) hashAtHead = hash
    }
    // The head may lag the file by the lines of a write cut short by a crash, never lead it.
    if (head !== undefined && (head.seq > seq || hashAtHead !== head.hash)) {
      return {
        ok: false,
        entries: seq,
        line: seq + 1,
        reason: `the log ends at entry ${seq}, entry ${head.seq} was written: entries removed`
      }
    }
    return { ok: true, entries: seq }
  }
}
