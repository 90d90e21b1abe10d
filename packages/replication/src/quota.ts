/**
 * Per-peer quotas: the records and bytes this node pinned because a given peer pushed them (the
 * key's first pusher). The source of truth is the `pushed_by` column of each content row; the
 * database keeps a per-peer tally of it (`push_usage`, see `schema.ts`) on every write, so a quota
 * survives a restart and checking it reads one row, never every record.
 */

export interface PeerUsage {
  records: number
  bytes: number
}

export interface QuotaLimits {
  maxRecordsPerPeer: number
  maxBytesPerPeer: number
  /** The bytes pinned for all peers together: the disk this node gives the others. */
  maxPinnedBytes: number
}

/**
 * Whether one more record of `bytes` stays within the limits: on top of `usage`, what the pusher
 * already made this node pin, and of `total`, what all pushers did.
 */
export function withinQuota(usage: PeerUsage, total: PeerUsage, bytes: number, limits: QuotaLimits): boolean {
  return (
    usage.records + 1 <= limits.maxRecordsPerPeer &&
    usage.bytes + bytes <= limits.maxBytesPerPeer &&
    total.bytes + bytes <= limits.maxPinnedBytes
  )
}
