import { open, readFile, rename } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { Logger } from '@chorus/dht'
import {
  type AuditInput,
  type ChainAnchor,
  type ChainPoint,
  chainPointOf,
  checkpointLine,
  checkpointMessage,
  entryLine,
  GENESIS,
  isUnsignedLine,
  verifyAuditText
} from './audit-format.js'
import type { AuditVerification } from './types.js'

export type { AuditInput, AuditOperation } from './audit-format.js'

export interface AuditHeadStore {
  getAuditHead(): ChainPoint | undefined
  setAuditHead(seq: number, hash: string): void
  clearAuditHead(): void
}

/** The node key the checkpoints are signed with; its public key verifies them. */
export interface AuditSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/** What the operations append to and what `verifyAuditLog()` asks. */
export interface AuditTrail {
  append(input: AuditInput): void
  /** Resolves when everything appended so far is on disk. */
  flush(): Promise<void>
  verify(): Promise<AuditVerification>
}

/** Audit logging switched off (`auditLogging: false`): nothing is appended, verify says so. */
export class DisabledAuditLog implements AuditTrail {
  append(): void {}
  flush(): Promise<void> {
    return Promise.resolve()
  }
  verify(): Promise<AuditVerification> {
    return Promise.resolve({
      ok: false,
      disabled: true,
      entries: 0,
      reason: 'audit logging is off (auditLogging: false): nothing is recorded, nothing to verify'
    })
  }
}

interface Pending extends ChainPoint {
  line: string
}

/** Reads up to 64 KiB at each end of a file: its first and last non-empty lines. */
async function firstAndLastLines(path: string): Promise<{ first?: string; last?: string }> {
  const fh = await open(path, 'r')
  try {
    const { size } = await fh.stat()
    const len = Math.min(size, 64 * 1024)
    const head = Buffer.alloc(len)
    await fh.read(head, 0, len, 0)
    const tail = Buffer.alloc(len)
    await fh.read(tail, 0, len, size - len)
    const nonEmpty = (b: Buffer) =>
      b
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')
    return { first: nonEmpty(head)[0], last: nonEmpty(tail).at(-1) }
  } finally {
    await fh.close()
  }
}

/**
 * Lines appended wait at most this long, in ms, to be written together; `flush()` (and `stop`)
 * writes at once.
 */
export const AUDIT_FLUSH_MS = 50

/**
 * Append-only JSON-lines audit log (format in `audit-format.ts`): a SHA-256 hash chain whose
 * entries are covered by checkpoints signed with the node's key, one per flush (one signature per
 * batch, not per entry: appends are on the path of every operation). Lines are hashed in call
 * order and written in batches, at most every {@link AUDIT_FLUSH_MS} (a node indexing replicas
 * under load appended a line or two per event-loop turn, and each batch costs a signature, a file
 * append and a database write). The last entry written is kept in
 * the index database and in memory: a truncation is caught against either, and while the node
 * runs even when the file and the database were both rewritten.
 */
export class AuditLog implements AuditTrail {
  /** The chain's end, buffered entries included. */
  #tip: ChainPoint = { seq: 0, hash: GENESIS }
  /** The last entry this process knows to be in the file (the in-memory head). */
  #written: ChainPoint = { seq: 0, hash: GENESIS }
  #buffer: Pending[] = []
  #flushing: Promise<void> = Promise.resolve()
  #scheduled = false

  constructor(
    private readonly path: string,
    private readonly nodeId: string,
    private readonly heads: AuditHeadStore,
    private readonly signer: AuditSigner,
    private readonly logger?: Logger
  ) {
    const h = heads.getAuditHead()
    if (h !== undefined) this.#tip = this.#written = h
  }

  /**
   * Continues the chain from the file's last line (the file wins over a lagging head). An
   * unsigned log of format 1 whose end the database head records is moved aside
   * (`audit.unsigned-<time>.log`) and a signed log starts; any other unsigned log stays, and
   * verification reports it.
   */
  async init(): Promise<void> {
    let ends: { first?: string; last?: string }
    try {
      ends = await firstAndLastLines(this.path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger?.warn(
          { err: (err as Error).message },
          'audit log unreadable; continuing from the index head'
        )
      }
      return
    }
    const last = ends.last === undefined ? undefined : chainPointOf(ends.last)
    if (ends.first !== undefined && isUnsignedLine(ends.first) && (await this.#setAsideUnsigned(last))) return
    if (last !== undefined && last.seq >= this.#tip.seq) this.#tip = this.#written = last
  }

  async #setAsideUnsigned(last: ChainPoint | undefined): Promise<boolean> {
    const head = this.heads.getAuditHead()
    if (head !== undefined && (head.seq !== last?.seq || head.hash !== last.hash)) return false
    const aside = join(
      dirname(this.path),
      `${basename(this.path, '.log')}.unsigned-${new Date().toISOString().replace(/[:.]/g, '-')}.log`
    )
    await rename(this.path, aside)
    this.heads.clearAuditHead()
    this.#tip = this.#written = { seq: 0, hash: GENESIS }
    this.logger?.warn(
      { kept: aside },
      'the audit log was unsigned (format 1) and is kept aside unverified; a signed log starts now'
    )
    return true
  }

  append(input: AuditInput): void {
    const seq = this.#tip.seq + 1
    const { line, hash } = entryLine(input, seq, this.#tip.hash, this.nodeId)
    this.#tip = { seq, hash }
    this.#buffer.push({ line, seq, hash })
    if (!this.#scheduled) {
      this.#scheduled = true
      setTimeout(() => {
        this.#scheduled = false
        void this.flush()
      }, AUDIT_FLUSH_MS)
    }
  }

  /** Writes buffered lines and their checkpoint; resolves when everything appended so far is on disk. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write())
    return this.#flushing
  }

  async #write(): Promise<void> {
    const pending = this.#buffer
    const last = pending.at(-1)
    if (last === undefined) return
    this.#buffer = []
    // A failed signature or write keeps the lines for the next flush (their hashes already chain);
    // the checkpoint is made again then, for the batch's new end.
    const keep = () => {
      this.#buffer = [...pending, ...this.#buffer]
    }
    let text: string
    try {
      const at = { seq: last.seq, hash: last.hash }
      // flushes run one at a time: the previous checkpoint is the last one written
      const since = this.#written.seq
      const sig = await this.signer.sign(checkpointMessage(since, at))
      text = pending.map((p) => p.line).join('') + checkpointLine(since, at, sig)
    } catch (err) {
      keep()
      this.logger?.error(
        { err: (err as Error).message, pending: this.#buffer.length },
        'audit checkpoint not signed; lines kept for the next flush'
      )
      return
    }
    // Through a handle, so a write cut short (disk full) is undone: the file keeps whole lines only.
    let fh: Awaited<ReturnType<typeof open>> | undefined
    let size: number | undefined
    let written = false
    try {
      fh = await open(this.path, 'a', 0o600)
      size = (await fh.stat()).size
      await fh.writeFile(text)
      written = true
    } catch (err) {
      keep()
      if (fh !== undefined && size !== undefined) {
        await fh.truncate(size).catch((e: unknown) => {
          this.logger?.error({ err: (e as Error).message, path: this.path }, 'audit log truncate failed')
        })
      }
      this.logger?.error(
        { err: (err as Error).message, path: this.path, pending: this.#buffer.length },
        'audit log write failed; lines kept for the next flush'
      )
    } finally {
      await fh?.close().catch(() => undefined)
    }
    if (!written) return
    this.#written = { seq: last.seq, hash: last.hash }
    // The lines are in the file: a head that cannot be saved (the index's disk is full too)
    // only lags the file, which verify() accepts; never write the lines twice.
    try {
      this.heads.setAuditHead(last.seq, last.hash)
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, 'audit head not saved; it lags the log file')
    }
  }

  /**
   * Re-reads the file and checks every line (see {@link verifyAuditText}) with the signer's public
   * key, and that the chain reaches both the database head and the in-memory one.
   */
  async verify(): Promise<AuditVerification> {
    await this.flush()
    const head = this.heads.getAuditHead()
    const anchors: ChainAnchor[] = [
      ...(head === undefined ? [] : [{ ...head, source: 'the index database' }]),
      { ...this.#written, source: 'this running node' }
    ]
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      if (anchors.every((a) => a.seq === 0)) return { ok: true, entries: 0 }
      return { ok: false, entries: 0, line: 1, reason: 'the audit log file is missing: entries removed' }
    }
    return verifyAuditText(text, this.signer.publicKey, anchors)
  }
}
