/**
 * A node that lost its disk, for the repair measurement: what it held (read from its replication
 * database while it is stopped) and the wipe itself. Its identity stays (peer key, team
 * certificate, role keys, API token): an operator restores those from provisioning, and the team's
 * certificate names that peer id. Everything it held is gone.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/** Top-level entries of a data directory that are the node's identity, not its data. */
const IDENTITY = new Set(['team', 'keys', 'api-token', 'assignment.yaml'])
/** The files of `<dataDir>/libp2p` that are its identity (@chorus/dht's PEER_KEY_FILE). */
const PEER_KEY_FILES = new Set(['peer.key'])

/**
 * Records and value bytes the stopped node held: from `<dataDir>/replication/replication.sqlite`
 * (`content` rows with a value), else unknown (NaN).
 */
export function lostRecordBytes(dataDir: string): { records: number; bytes: number; source: string } {
  const file = join(dataDir, 'replication', 'replication.sqlite')
  if (existsSync(file)) {
    try {
      const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as typeof import('node:sqlite')
      const db = new DatabaseSync(file, { readOnly: true })
      try {
        const row = db
          .prepare(
            'SELECT count(*) AS n, coalesce(sum(length(value)), 0) AS b FROM content WHERE value IS NOT NULL'
          )
          .get() as { n: number; b: number }
        return {
          records: Number(row.n),
          bytes: Number(row.b),
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
