import { existsSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AuditLog } from '../src/audit.js'
import { LocalIndex } from '../src/index-db.js'
import { tempDir } from './helpers.js'

describe('audit log', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0)) c()
  })

  async function freshLog(entries: number) {
    const t = tempDir()
    const index = new LocalIndex(join(t.dir, 'index.sqlite'))
    cleanups.push(() => {
      index.close()
      t.remove()
    })
    const path = join(t.dir, 'audit.log')
    const log = new AuditLog(path, 'node-a', index)
    await log.init()
    for (let i = 0; i < entries; i++) {
      log.append({
        op: 'store',
        role: 'backend_developer',
        address: `ucxl://a:b@c:d/p${i}`,
        size: i,
        success: true
      })
    }
    await log.flush()
    return { log, path, index }
  }

  it('verifies an intact log, also after reopening it', async () => {
    const { log, path, index } = await freshLog(5)
    expect(await log.verify()).toEqual({ ok: true, entries: 5 })
    const again = new AuditLog(path, 'node-a', index)
    await again.init()
    again.append({
      op: 'retrieve',
      address: 'ucxl://a:b@c:d/p0',
      success: false,
      error: { code: 'X', message: 'y' }
    })
    expect(await again.verify()).toEqual({ ok: true, entries: 6 })
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    expect(JSON.parse(lines[5]!)).toMatchObject({ seq: 6, op: 'retrieve', success: false, nodeId: 'node-a' })
  })

  it('detects an edited entry', async () => {
    const { log, path } = await freshLog(5)
    const lines = readFileSync(path, 'utf8').split('\n')
    lines[2] = lines[2]!.replace('"size":2', '"size":20')
    writeFileSync(path, lines.join('\n'))
    expect(await log.verify()).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/edited/) })
  })

  it('detects a removed entry, reordered entries and a truncated tail', async () => {
    const removed = await freshLog(5)
    let lines = readFileSync(removed.path, 'utf8').split('\n')
    lines.splice(1, 1)
    writeFileSync(removed.path, lines.join('\n'))
    expect(await removed.log.verify()).toMatchObject({ ok: false, line: 2 })

    const reordered = await freshLog(5)
    lines = readFileSync(reordered.path, 'utf8').split('\n')
    ;[lines[1], lines[2]] = [lines[2]!, lines[1]!]
    writeFileSync(reordered.path, lines.join('\n'))
    expect(await reordered.log.verify()).toMatchObject({ ok: false, line: 2 })

    const truncated = await freshLog(5)
    lines = readFileSync(truncated.path, 'utf8').split('\n')
    writeFileSync(truncated.path, `${lines.slice(0, 3).join('\n')}\n`)
    expect(await truncated.log.verify()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/removed/)
    })
  })

  it.skipIf(!existsSync('/dev/full'))(
    'a write refused by a full disk leaves whole lines only, keeps the lines and writes them on the next flush',
    async () => {
      const { log, path, index } = await freshLog(3)
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
      const lines = readFileSync(path, 'utf8').trim().split('\n')
      expect(lines.map((l) => (JSON.parse(l) as { address: string }).address).slice(3)).toEqual([
        'ucxl://a:b@c:d/full1',
        'ucxl://a:b@c:d/full2',
        'ucxl://a:b@c:d/full3'
      ])
    }
  )

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
      }
    }
    const log = new AuditLog(join(t.dir, 'audit.log'), 'node-a', heads)
    await log.init()
    log.append({ op: 'store', address: 'ucxl://a:b@c:d/x', success: true })
    await log.flush()
    failHead = false
    log.append({ op: 'store', address: 'ucxl://a:b@c:d/y', success: true })
    expect(await log.verify()).toEqual({ ok: true, entries: 2 })
  })
})
