/**
 * A node that lost its disk, for the repair measurement: what it held (read from its replication
 * database while it is stopped) and the wipe itself. Its identity stays (peer key, team
 * certificate, role keys, API token): an operator restores those from provisioning, and the team's
 * certificate names that peer id. Everything it held is gone.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { sortByDistance } from '@chorus/dht'

/** Top-level entries of a data directory that are the node's identity, not its data. */
const IDENTITY = new Set(['team', 'keys', 'api-token', 'assignment.yaml'])
/** The files of `<dataDir>/libp2p` that are its identity (@chorus/dht's PEER_KEY_FILE). */
const PEER_KEY_FILES = new Set(['peer.key'])

/** Which keys a node should hold: those for which it is among the `factor` peers closest to the key. */
export interface HolderRule {
  self: string
  peers: readonly string[]
  factor: number
}

/** What a stopped node held, and of that what it should hold (its refill's target). */
export interface LostRecords {
  records: number
  bytes: number
  /** Of those, the keys it is a target holder of (among the factor closest of every node), and their bytes. */
  targetRecords: number
  targetBytes: number
  source: string
}

/**
 * Records and value bytes the stopped node held: from `<dataDir>/replication/replication.sqlite`
 * (`content` rows with a value), else unknown (NaN). With `rule`, also the part it should hold: a
 * copy beyond the factor (a spare of a hedged push) is not refilled, and need not be.
 */
export function lostRecordBytes(dataDir: string, rule?: HolderRule): LostRecords {
  const file = join(dataDir, 'replication', 'replication.sqlite')
  if (existsSync(file)) {
    try {
      const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite')
      const db = new DatabaseSync(file, { readOnly: true })
      try {
        const rows = db
          .prepare('SELECT key, length(value) AS b FROM content WHERE value IS NOT NULL')
          .all() as Array<{ key: string; b: number }>
        const everyone = rule == null ? [] : [rule.self, ...rule.peers.filter((p) => p !== rule.self)]
        const target = rows.filter(
          (r) => rule == null || sortByDistance(r.key, everyone).slice(0, rule.factor).includes(rule.self)
        )
        const sum = (list: Array<{ b: number }>): number => list.reduce((n, r) => n + Number(r.b), 0)
        return {
          records: rows.length,
          bytes: sum(rows),
          targetRecords: target.length,
          targetBytes: sum(target),
          source: 'its replication database (values held)'
        }
      } finally {
        db.close()
      }
    } catch {
      // a schema of another version: fall back
    }
  }
  return {
    records: Number.NaN,
    bytes: Number.NaN,
    targetRecords: Number.NaN,
    targetBytes: Number.NaN,
    source: 'unknown (no replication database of a known schema)'
  }
}

/** Removes everything but the node's identity from its data directory. */
export function wipeDataDir(dataDir: string): void {
  for (const entry of readdirSync(dataDir)) {
    if (IDENTITY.has(entry)) continue
    const path = join(dataDir, entry)
    if (entry === 'libp2p') {
      for (const f of readdirSync(path))
        if (!PEER_KEY_FILES.has(f)) rmSync(join(path, f), { recursive: true, force: true })
      continue
    }
    rmSync(path, { recursive: true, force: true })
  }
}
