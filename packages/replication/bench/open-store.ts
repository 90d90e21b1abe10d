/**
 * Open-time benchmark of the replication state: how long `ContentEntries.open()` takes and how
 * much memory the process holds after it, for a store of N pinned 1 KiB records. A figure to
 * report, not a test.
 *
 *   node bench/open-store.ts [--records 100000] [--dir /tmp/x]   # fills once, then opens in child processes
 *
 * It reads the built package (`dist/`: run the build first). Each open runs in a fresh process (`--open <dir>`), so its RSS is that of the open store alone.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { replicationDefaults } from '../dist/config.js'
import { ContentEntries } from '../dist/entries.js'
import { ReplicationStore } from '../dist/store.js'

const args = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : args[i + 1]
}

const mib = (n: number): number => Math.round((n / 1024 / 1024) * 10) / 10

function fill(dir: string, n: number): void {
  const store = new ReplicationStore(dir)
  // the store keeps its connection private; one transaction makes the fill quick
  const db = (store as unknown as { db: { exec(sql: string): void } }).db
  const now = Date.now()
  db.exec('BEGIN')
  for (let i = 0; i < n; i++) {
    const value = randomBytes(1024)
    const row = {
      key: `/CHORUS/bench/${i.toString(16).padStart(8, '0')}`,
      size: value.byteLength,
      priority: 0,
      createdAt: now,
      pinned: true,
      origin: 'replica' as const,
      pushedBy: `peer-${i % 5}`,
      lastReprovided: now,
      lastRepublished: now,
      lastChecked: now,
      lastActual: 3,
      lastHealth: 'healthy' as const,
      repairFailures: 0,
      nextRepairAt: now + 3_600_000
    }
    // a full entry where the schema keeps the schedule, a row otherwise
    store.upsertContent(
      {
        ...row,
        nextProvideAt: now + ((i * 7919) % 43_200_000),
        nextRepublishAt: now + ((i * 104_729) % 86_400_000),
        deferredUntil: undefined,
        provideFailures: 0,
        republishFailures: 0,
        fresh: false,
        departed: 0
      } as Parameters<ReplicationStore['upsertContent']>[0],
      value
    )
  }
  db.exec('COMMIT')
  store.close()
}

function openOnce(dir: string): void {
  global.gc?.()
  const rss0 = process.memoryUsage().rss
  const t0 = performance.now()
  const entries = new ContentEntries({ dataDir: dir, config: replicationDefaults })
  entries.open()
  const ms = performance.now() - t0
  global.gc?.()
  const rss = process.memoryUsage().rss
  process.stdout.write(
    `${JSON.stringify({ openMs: Math.round(ms * 10) / 10, rssMiB: mib(rss), rssGrowthMiB: mib(rss - rss0), heapUsedMiB: mib(process.memoryUsage().heapUsed) })}\n`
  )
  entries.close()
}

const openDir = arg('--open')
if (openDir != null) {
  openOnce(openDir)
} else {
  const n = Number(arg('--records') ?? 100_000)
  const dir = arg('--dir') ?? mkdtempSync(join(tmpdir(), 'chorus-open-bench-'))
  if (!existsSync(join(dir, 'replication.sqlite'))) {
    const t0 = performance.now()
    fill(dir, n)
    process.stderr.write(`filled ${n} records in ${Math.round(performance.now() - t0)} ms (${dir})\n`)
  }
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(process.execPath, ['--expose-gc', import.meta.filename, '--open', dir], {
      encoding: 'utf8'
    })
    process.stdout.write(`open ${i + 1}: ${out}`)
  }
}
