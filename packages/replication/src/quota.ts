/**
 * Per-peer quotas: the records and bytes this node pinned because a given peer pushed them (the
 * key's first pusher). The source of truth is the `pushed_by` column of each content row in
 * SQLite; this tally is rebuilt from the rows when the store opens and kept in step with every
 * write, so a quota survives a restart and checking it costs no query.
 */

export interface PeerUsage {
  records: number
  bytes: number
}

export interface QuotaLimits {
  maxRecordsPerPeer: number
  maxBytesPerPeer: number
}

export class PushUsage {
  private readonly byPeer = new Map<string, PeerUsage>()
  private readonly byKey = new Map<string, { peer: string; bytes: number }>()

  /** What `peer` has made this node pin. */
  of(peer: string): PeerUsage {
    const u = this.byPeer.get(peer)
    return u == null ? { records: 0, bytes: 0 } : { ...u }
  }

  /** Whether one more record of `bytes` pushed by `peer` stays within the limits. */
  allows(peer: string, bytes: number, limits: QuotaLimits): boolean {
    const u = this.byPeer.get(peer)
    if (u == null) return 1 <= limits.maxRecordsPerPeer && bytes <= limits.maxBytesPerPeer
    return u.records + 1 <= limits.maxRecordsPerPeer && u.bytes + bytes <= limits.maxBytesPerPeer
  }

  /** Sets what the key costs and whom (`peer` undefined: nobody, the application's own key). */
  charge(key: string, peer: string | undefined, bytes: number): void {
    this.release(key)
    if (peer == null) return
    this.byKey.set(key, { peer, bytes })
    const u = this.byPeer.get(peer) ?? { records: 0, bytes: 0 }
    u.records++
    u.bytes += bytes
    this.byPeer.set(peer, u)
  }

  /** The key no longer costs anybody anything. */
  release(key: string): void {
    const c = this.byKey.get(key)
    if (c == null) return
    this.byKey.delete(key)
    const u = this.byPeer.get(c.peer)
    if (u == null) return
    u.records--
    u.bytes -= c.bytes
    if (u.records <= 0) this.byPeer.delete(c.peer)
  }

  clear(): void {
    this.byPeer.clear()
    this.byKey.clear()
  }
}
