// Disk errors under a node's data directory (a small tmpfs: full, then read-only): the caller
// gets a clear error, the node stays up and serves what it stored, nothing stored is corrupted,
// and writes work again once the disk does.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { startNetwork, type TestNetwork } from '@chorus/dht/testing'
import { chorusRecordRules, type EncryptedStorage } from '@chorus/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStorage, teamKeys, tempDir, text } from './helpers.js'
import { createReport } from './report.js'

const report = createReport('disk')

function tryMount(dir: string, sizeMb: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
}

/** Fills the file system with a filler file until it refuses (ENOSPC). */
function fill(path: string): number {
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024, 0x5a)
  let written = 0
  try {
    for (;;) written += writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
  // the last partial chunk too
  try {
    const fd2 = openSync(`${path}.tail`, 'w')
    try {
      for (;;) written += writeSync(fd2, Buffer.alloc(512, 0x5a))
    } catch {
      // ENOSPC
    } finally {
      closeSync(fd2)
    }
  } catch {
    // no inode or space left for a second file
  }
  return written
}

const tmp = tempDir('chorus-rel-disk-')
// two small file systems: the DHT's datastore on one, storage (SQLite index, audit log) on the other,
// so the storage one can be remounted read-only while the node keeps running
const dhtDisk = join(tmp.dir, 'dht-disk')
const disk = join(tmp.dir, 'storage-disk')
mkdirSync(dhtDisk, { recursive: true })
mkdirSync(disk, { recursive: true })
const mounted = tryMount(dhtDisk, 16) && tryMount(disk, 16)

describe.skipIf(!mounted)('disk full and read-only under a node (tmpfs)', () => {
  const keys = teamKeys()
  let net: TestNetwork
  let victim: EncryptedStorage
  let reader: EncryptedStorage
  let auditAfterFaults: { ok: boolean; line?: number; reason?: string } | undefined
  const typed = (err: unknown) =>
    err instanceof Error && typeof (err as { code?: unknown }).code === 'string' && err.message.length > 0

  beforeAll(async () => {
    net = await startNetwork({
      nodes: 3,
      records: chorusRecordRules(),
      init: (i) => (i === 2 ? { dataDir: join(dhtDisk, 'libp2p') } : {})
    })
    const plays = ['backend_developer', 'senior_architect']
    const mk = (i: number, dataDir: string) =>
      startStorage({
        dht: net.nodes[i]!,
        signer: net.nodes[i]!.signer,
        keys,
        plays,
        init: { dataDir, nodeId: net.nodes[i]!.peerId, writeQuorum: 1, storeTimeout: 15_000 }
      })
    victim = await mk(2, join(disk, 'storage'))
    reader = await mk(0, join(tmp.dir, 'reader'))
  }, 120_000)

  afterAll(async () => {
    await Promise.allSettled([victim?.stop(), reader?.stop()])
    await net?.stop()
    for (const d of [dhtDisk, disk]) {
      try {
        execFileSync('umount', ['-l', d], { stdio: 'pipe' })
      } catch {
        // not mounted
      }
    }
    tmp.remove()
    report.flush()
  }, 60_000)

  it('full disk, then read-only disk: typed errors, node up, stored records intact, writes resume', async () => {
    const stored = new Map<string, string>()
    const store = async (k: string) => {
      const address = `ucxl://agent2:backend_developer@disk:t/*^/${k}`
      const content = `record ${k} ${'d'.repeat(2000)}`
      await victim.storeUCXLContent(address, content, 'backend_developer', 'text/plain')
      stored.set(address, content)
    }
    for (let k = 0; k < 6; k++) await store(`before-${k}`)

    const outcomes: string[] = []
    const faultyWrite = async (label: string, n: number) => {
      for (let k = 0; k < n; k++) {
        const address = `ucxl://agent2:backend_developer@disk:t/*^/${label}-${k}`
        const content = `written on a ${label} disk #${k}`
        try {
          await victim.storeUCXLContent(address, content, 'backend_developer', 'text/plain')
          // accepted: then it must be really stored (checked after recovery, with the rest)
          stored.set(address, content)
          outcomes.push(`${label}: accepted`)
        } catch (err) {
          expect(typed(err), `untyped error on a ${label} disk: ${String(err)}`).toBe(true)
          outcomes.push(`${label}: ${(err as Error).name} ${(err as { code: string }).code}`)
        }
      }
    }

    // 1. full disk
    const fillers = [join(dhtDisk, 'filler.bin'), join(disk, 'filler.bin')]
    for (const f of fillers) fill(f)
    report.fault('disk full')
    await faultyWrite('full', 4)
    // the node is up: it still serves what it stored, to itself and to peers
    expect(net.nodes[2]!.getConnectedPeers().length).toBeGreaterThan(0)
    for (const [address, content] of [...stored].slice(0, 6)) {
      expect(text((await victim.retrieveUCXLContent(address)).content)).toBe(content)
    }
    for (const f of fillers) {
      rmSync(f, { force: true })
      rmSync(`${f}.tail`, { force: true })
    }
    let t0 = Date.now()
    await store('after-full')
    report.recovery('disk full: space freed until the next write succeeds', Date.now() - t0)

    // 2. read-only disk: storage restarts on it (a file system cannot turn read-only under open
    // files); the DHT node stays up all along
    await victim.stop()
    execFileSync('mount', ['-o', 'remount,ro', disk], { stdio: 'pipe' })
    report.fault('disk read-only')
    try {
      const started = await victim.start().then(
        () => 'started',
        (err: unknown) => {
          expect(typed(err), `untyped error starting on a read-only disk: ${String(err)}`).toBe(true)
          return `${(err as Error).name} ${(err as { code: string }).code}`
        }
      )
      outcomes.push(`read-only start: ${started}`)
      if (started === 'started') {
        await faultyWrite('read-only', 3)
        for (const [address, content] of [...stored].slice(0, 3)) {
          expect(text((await victim.retrieveUCXLContent(address)).content)).toBe(content)
        }
        await victim.stop()
      }
      expect(net.nodes[2]!.getConnectedPeers().length).toBeGreaterThan(0)
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', disk], { stdio: 'pipe' })
    }
    await victim.start()
    t0 = Date.now()
    await store('after-read-only')
    report.recovery('disk read-only: remounted until the next write succeeds', Date.now() - t0)
    report.note(`disk faults, write outcomes: ${[...new Set(outcomes)].join('; ')}`)

    // 3. nothing stored is lost or corrupted: through the victim, through a peer, after a restart
    await victim.stop()
    await victim.start()
    const audit = await victim.verifyAuditLog()
    auditAfterFaults = audit
    if (!audit.ok)
      report.note(`audit log broken after a disk-full append (line ${audit.line}: ${audit.reason})`)
    let lost = 0
    let corrupted = 0
    for (const [address, content] of stored) {
      for (const s of [victim, reader]) {
        const got = await s.retrieveUCXLContent(address).catch(() => undefined)
        report.read()
        if (got == null) lost++
        else if (text(got.content) !== content) corrupted++
      }
    }
    report.written(stored.size)
    report.lost(lost)
    report.corrupted(corrupted)
    expect({ lost, corrupted }).toEqual({ lost: 0, corrupted: 0 })
    report.check('disk full / read-only: typed errors, node stays up, nothing corrupted, writes resume')
  })

  // Once a known bug: a write cut short by ENOSPC left a torn line and dropped the lines. AuditLog.flush
  // now truncates back to the last whole line and keeps the lines for the next flush.
  it('the audit log still verifies after a disk-full episode', () => {
    expect(auditAfterFaults?.ok).toBe(true)
  })
})

if (!mounted) {
  it('disk faults need a tmpfs mount (root with CAP_SYS_ADMIN); skipped here', () => {
    report.note('disk faults skipped: tmpfs mount not permitted')
    report.flush()
  })
}
