/**
 * Where the sweep is: the next region's lower bound, when the current pass started, its prefix
 * length and its tallies. Kept in `<dataDir>/sweep-cursor.json` (by rename, so a crash leaves the
 * previous one), in memory without a data directory; written at the end of a pass, on stop, and
 * after a region at most once a second (each write is three file-system calls; a crash sweeps at
 * most a second's regions again). A restart resumes at the region after the last one saved.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface SweepCursor {
  /** Lower bound of the next region to sweep (hex, 32 bytes); undefined: the pass is complete. */
  next: string | undefined
  /** When the current pass started (ms); region at keyspace fraction f is due at passStart + f × interval. */
  passStart: number
  /** Prefix length of the current pass's regions. */
  bits: number
  /** Tallies of the current pass. */
  regions: number
  messages: number
  bytes: number
  /** Whether the current pass looks up each region's closest peers (a reprovide). Default true. */
  lookups?: boolean
  /** When the last pass that looked up began (ms). */
  lastLookupPass?: number
}

const FILE = 'sweep-cursor.json'
/** A region's cursor is written at most this often (the end of a pass and a stop always are). */
const SAVE_EVERY_MS = 1_000

export class CursorFile {
  private readonly dir: string | undefined
  private savedAt = 0
  private madeDir = false

  constructor(dir: string | undefined) {
    this.dir = dir
  }

  load(): SweepCursor | undefined {
    if (this.dir == null) return undefined
    try {
      const c = JSON.parse(readFileSync(join(this.dir, FILE), 'utf8')) as Partial<SweepCursor>
      const next = typeof c.next === 'string' && /^[0-9a-f]{64}$/.test(c.next) ? c.next : undefined
      const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0)
      return {
        next,
        passStart: n(c.passStart),
        bits: Math.min(32, n(c.bits)),
        regions: n(c.regions),
        messages: n(c.messages),
        bytes: n(c.bytes),
        lookups: c.lookups !== false,
        lastLookupPass: n(c.lastLookupPass)
      }
    } catch {
      return undefined
    }
  }

  /** Writes the cursor: when `always`, or a second after the last write. */
  save(cursor: SweepCursor, always = false): void {
    if (this.dir == null) return
    const now = Date.now()
    if (!always && now - this.savedAt < SAVE_EVERY_MS) return
    this.savedAt = now
    if (!this.madeDir) mkdirSync(this.dir, { recursive: true })
    this.madeDir = true
    const tmp = join(this.dir, `${FILE}.tmp`)
    writeFileSync(tmp, JSON.stringify(cursor))
    renameSync(tmp, join(this.dir, FILE))
  }
}
