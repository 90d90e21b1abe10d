import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AuditLog, type AuditSigner } from '../src/audit.js'
import { checkpointLine, checkpointMessage, entryHash, GENESIS } from '../src/audit-format.js'
import { LocalIndex } from '../src/index-db.js'
import { makeSigner, tempDir } from './helpers.js'

type Line = Record<string, unknown>

const readLines = (path: string): Line[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)
const isCheckpoint = (l: Line) => 'checkpoint' in l
const writeLines = (path: string, lines: Line[]) =>
  writeFileSync(path, lines.map((l) => `${JSON.stringify(l)}\n`).join(''))

/**
 * What someone without the node key can do to the file: re-number, re-link and re-hash every
 * entry so the chain is whole again, point each checkpoint at the new hashes (keeping the old
 * signatures, or signing with `signer`), and return the new end for the database head.
 */
async function rechain(
  lines: Line[],
  signer?: AuditSigner
): Promise<{ lines: Line[]; head: { seq: number; hash: string } }> {
  let prev = GENESIS
  let seq = 0
  let since = 0
  const out: Line[] = []
  for (const line of lines) {
    if (isCheckpoint(line)) {
      const at = { seq, hash: prev }
      out.push(
        signer === undefined
          ? { ...line, checkpoint: seq, since, hash: prev }
          : (JSON.parse(checkpointLine(since, at, await signer.sign(checkpointMessage(since, at)))) as Line)
      )
      since = seq
      continue
    }
    const { hash: _old, ...body } = line
    seq++
    const entry = { ...body, seq, prev }
    prev = entryHash(prev, JSON.stringify(entry))
    out.push({ ...entry, hash: prev })
  }
  return { lines: out, head: { seq, hash: prev } }
}

describe('audit log', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0)) c()
  })

  /** A log of `entries` entries written in `batches` flushes (each flush ends with a checkpoint). */
  async function freshLog(entries: number, batches = entries, signer: AuditSigner = makeSigner()) {
    const t = tempDir()
    const index = new LocalIndex(join(t.dir, 'index.sqlite'))
    cleanups.push(() => {
      index.close()
      t.remove()
    })
    const path = join(t.dir, 'audit.log')
    const log = new AuditLog(path, 'node-a', index, signer)
    await log.init()
    const per = Math.ceil(entries / batches)
    for (let i = 0; i < entries; i++) {
      log.append({
        op: i % 2 === 0 ? 'store' : 'retrieve',
        role: 'backend_developer',
        ...(i % 2 === 1 ? { keyId: 'key-1' } : {}),
        address: `ucxl://a:b@c:d/p${i}`,
        size: i,
        success: true
      })
      if ((i + 1) % per === 0) await log.flush()
    }
    await log.flush()
    return { log, path, index, signer, dir: t.dir }
  }

  it('verifies an intact log, also after reopening it; each flush ends with one signed checkpoint', async () => {
    const { log, path, index, signer } = await freshLog(6, 2)
    expect(await log.verify()).toEqual({ ok: true, entries: 6 })
    const lines = readLines(path)
    expect(lines.filter(isCheckpoint).map((l) => l.checkpoint)).toEqual([3, 6])
    expect(lines.every((l) => l.v === 2)).toBe(true)
    expect(lines[1]).toMatchObject({
      v: 2,
      seq: 2,
      op: 'retrieve',
      role: 'backend_developer',
      keyId: 'key-1'
    })
    const again = new AuditLog(path, 'node-a', index, signer)
    await again.init()
    again.append({
      op: 'retrieve',
      address: 'ucxl://a:b@c:d/p0',
      success: false,
      error: { code: 'X', message: 'y' }
    })
    again.append({ op: 'search', query: { role: 'backend_developer', limit: 5 }, results: 2, success: true })
    expect(await again.verify()).toEqual({ ok: true, entries: 8 })
    expect(readLines(path).filter((l) => !isCheckpoint(l))[7]).toMatchObject({
      seq: 8,
      op: 'search',
      address: null,
      query: { role: 'backend_developer', limit: 5 },
      results: 2
    })
  })

  it('an edited entry fails, and so does one whose hash and the rest of the chain were recomputed', async () => {
    const edited = await freshLog(5)
    let lines = readLines(edited.path)
    const i = lines.findIndex((l) => l.seq === 3)
    lines[i] = { ...lines[i], size: 20 }
    writeLines(edited.path, lines)
    expect(await edited.log.verify()).toMatchObject({
      ok: false,
      line: i + 1,
      reason: expect.stringMatching(/edited/)
    })

    const rehashed = await freshLog(5)
    lines = readLines(rehashed.path)
    lines[i] = { ...lines[i], success: false }
    const forged = await rechain(lines)
    writeLines(rehashed.path, forged.lines)
    rehashed.index.setAuditHead(forged.head.seq, forged.head.hash)
    expect(await rehashed.log.verify()).toMatchObject({
      ok: false,
      line: i + 2, // the checkpoint of the edited entry
      reason: expect.stringMatching(/signature does not verify/)
    })
  })

  it('an entry deleted and the rest re-chained (every hash and the database head recomputed) fails', async () => {
    const { log, path, index } = await freshLog(6, 2)
    const lines = readLines(path).filter((l) => l.seq !== 2)
    const forged = await rechain(lines)
    writeLines(path, forged.lines)
    index.setAuditHead(forged.head.seq, forged.head.hash)
    expect(forged.head.seq).toBe(5)
    expect(await log.verify()).toMatchObject({
      ok: false,
      line: 3,
      reason: expect.stringMatching(/signature does not verify with this node's key/)
    })
    // without the checkpoints, nothing covers the entries
    writeLines(
      path,
      forged.lines.filter((l) => !isCheckpoint(l))
    )
    expect(await log.verify()).toMatchObject({
      ok: false,
      line: 1,
      reason: expect.stringMatching(/no signed checkpoint/)
    })
  })

  it('a checkpoint removed or moved fails, though every entry is still covered', async () => {
    const { log, path } = await freshLog(6, 3)
    const lines = readLines(path)
    const first = lines.findIndex(isCheckpoint)
    writeLines(
      path,
      lines.filter((_, i) => i !== first)
    )
    expect(await log.verify()).toMatchObject({
      ok: false,
      line: 5,
      reason: expect.stringMatching(/checkpoint was removed/)
    })
  })

  it('reordered entries fail, as written and re-chained', async () => {
    const { log, path, index } = await freshLog(6, 1)
    const lines = readLines(path)
    ;[lines[1], lines[2]] = [lines[2]!, lines[1]!]
    writeLines(path, lines)
    expect(await log.verify()).toMatchObject({
      ok: false,
      line: 2,
      reason: expect.stringMatching(/reordered/)
    })
    const forged = await rechain(lines)
    writeLines(path, forged.lines)
    index.setAuditHead(forged.head.seq, forged.head.hash)
    expect(await log.verify()).toMatchObject({
      ok: false,
      line: 7,
      reason: expect.stringMatching(/signature/)
    })
  })

  it('a truncated log fails: mid-batch, or at a checkpoint with the database head rewritten (the running node remembers)', async () => {
    const mid = await freshLog(6, 2)
    let lines = readLines(mid.path)
    writeLines(mid.path, lines.slice(0, 2))
    expect(await mid.log.verify()).toMatchObject({
      ok: false,
      line: 1,
      reason: expect.stringMatching(/no signed checkpoint/)
    })

    const { log, path, index, signer } = await freshLog(6, 2)
    lines = readLines(path)
    const cut = lines.slice(0, 4) // entries 1-3 and their checkpoint: a valid signed prefix
    writeLines(path, cut)
    index.setAuditHead(3, cut[2]!.hash as string)
    expect(await log.verify()).toMatchObject({
      ok: false,
      entries: 3,
      reason:
        'the log ends at entry 3, this running node records entry 6: entries removed (the file was truncated or replaced)'
    })
    // the file alone (head untouched), seen by a node started afterwards: the database head
    index.setAuditHead(6, lines[6]!.hash as string)
    const restarted = new AuditLog(path, 'node-a', index, signer)
    await restarted.init()
    expect(await restarted.verify()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/index database records entry 6/)
    })
    // the file missing
    unlinkSync(path)
    expect(await log.verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) })
  })

  it('what remains: a whole consistent rollback (file and head) before a restart is not detected', async () => {
    const { path, index, signer, log } = await freshLog(6, 2)
    await log.flush()
    const lines = readLines(path)
    writeLines(path, lines.slice(0, 4))
    index.setAuditHead(3, lines[2]!.hash as string)
    const restarted = new AuditLog(path, 'node-a', index, signer)
    await restarted.init()
    // documented in the README: only an outside anchor (a copy of the head elsewhere) catches this
    expect(await restarted.verify()).toEqual({ ok: true, entries: 3 })
  })

  it('a whole file freshly chained and signed by another key fails', async () => {
    const { log, path, index } = await freshLog(4, 2)
    const other = await freshLog(4, 2, makeSigner())
    const forged = readFileSync(other.path, 'utf8')
    writeFileSync(path, forged)
    const last = readLines(other.path).at(-1)!
    index.setAuditHead(4, last.hash as string)
    expect(await log.verify()).toMatchObject({
      ok: false,
      line: 3,
      reason: expect.stringMatching(/written by another key/)
    })
    // re-signed checkpoints over a re-chained copy of the genuine entries: the same
    const forgedHere = await rechain(readLines(path), makeSigner())
    writeLines(path, forgedHere.lines)
    expect(await log.verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/another key/) })
  })

  it('an unsigned log (format 1) is reported as such, and set aside at start when its head matches', async () => {
    const t = tempDir()
    const index = new LocalIndex(join(t.dir, 'index.sqlite'))
    cleanups.push(() => {
      index.close()
      t.remove()
    })
    const path = join(t.dir, 'audit.log')
    // a format-1 line as the unsigned log wrote it
    const body = {
      seq: 1,
      ts: '2024-01-01T00:00:00.000Z',
      op: 'store',
      nodeId: 'node-a',
      address: 'x',
      success: true,
      prev: GENESIS
    }
    const hash = entryHash(GENESIS, JSON.stringify(body))
    writeFileSync(path, `${JSON.stringify({ ...body, hash })}\n`)
    const signer = makeSigner()
    // its head is not the database's: it stays, and verification names it
    index.setAuditHead(7, 'f'.repeat(64))
    const kept = new AuditLog(path, 'node-a', index, signer)
    await kept.init()
    expect(await kept.verify()).toMatchObject({
      ok: false,
      line: 1,
      reason: expect.stringMatching(/unsigned entry \(format 1/)
    })
    // its head matches (an upgraded node): moved aside, a signed log starts
    index.setAuditHead(1, hash)
    const upgraded = new AuditLog(path, 'node-a', index, signer)
    await upgraded.init()
    expect(existsSync(path)).toBe(false)
    expect(readdirSync(t.dir).some((f) => /^audit\.unsigned-.*\.log$/.test(f))).toBe(true)
    upgraded.append({ op: 'store', address: 'y', success: true })
    expect(await upgraded.verify()).toEqual({ ok: true, entries: 1 })
  })

  it.skipIf(!existsSync('/dev/full'))(
    'a write refused by a full disk leaves whole lines only, keeps the lines and writes them on the next flush',
    async () => {
      const { log, path, index } = await freshLog(3, 1)
      const headBefore = index.getAuditHead()
      // the disk is full: the log file is /dev/full for a while (every write fails with ENOSPC)
      renameSync(path, `${path}.real`)
      symlinkSync('/dev/full', path)
      const add = (i: number) =>
        log.append({ op: 'retrieve', address: `ucxl://a:b@c:d/full${i}`, success: true })
      add(1)
      add(2)
      await log.flush()
      expect(index.getAuditHead()).toEqual(headBefore) // the head never runs ahead of the file
      // space again
      unlinkSync(path)
      renameSync(`${path}.real`, path)
      add(3)
      expect(await log.verify()).toEqual({ ok: true, entries: 6 })
      const entries = readLines(path).filter((l) => !isCheckpoint(l))
      expect(entries.map((l) => l.address).slice(3)).toEqual([
        'ucxl://a:b@c:d/full1',
        'ucxl://a:b@c:d/full2',
        'ucxl://a:b@c:d/full3'
      ])
    }
  )

  it('a checkpoint the signer refuses keeps the lines for the next flush', async () => {
    const t = tempDir()
    const index = new LocalIndex(join(t.dir, 'index.sqlite'))
    cleanups.push(() => {
      index.close()
      t.remove()
    })
    const real = makeSigner()
    let refuse = true
    const signer: AuditSigner = {
      publicKey: real.publicKey,
      sign: (data) => (refuse ? Promise.reject(new Error('signer unavailable')) : real.sign(data))
    }
    const log = new AuditLog(join(t.dir, 'audit.log'), 'node-a', index, signer)
    await log.init()
    log.append({ op: 'store', address: 'ucxl://a:b@c:d/x', success: true })
    await log.flush()
    expect(existsSync(join(t.dir, 'audit.log'))).toBe(false)
    refuse = false
    log.append({ op: 'store', address: 'ucxl://a:b@c:d/y', success: true })
    expect(await log.verify()).toEqual({ ok: true, entries: 2 })
  })

  it('a head that cannot be saved (index disk full) never gets the lines written twice', async () => {
    const t = tempDir()
    const index = new LocalIndex(join(t.dir, 'index.sqlite'))
    cleanups.push(() => {
      index.close()
      t.remove()
    })
    let failHead = true
    const heads = {
      getAuditHead: () => index.getAuditHead(),
      setAuditHead: (seq: number, hash: string) => {
        if (failHead) throw Object.assign(new Error('database or disk is full'), { errcode: 13 })
        index.setAuditHead(seq, hash)
      },
      clearAuditHead: () => index.clearAuditHead()
    }
    const log = new AuditLog(join(t.dir, 'audit.log'), 'node-a', heads, makeSigner())
    await log.init()
    log.append({ op: 'store', address: 'ucxl://a:b@c:d/x', success: true })
    await log.flush()
    failHead = false
    log.append({ op: 'store', address: 'ucxl://a:b@c:d/y', success: true })
    expect(await log.verify()).toEqual({ ok: true, entries: 2 })
  })
})
