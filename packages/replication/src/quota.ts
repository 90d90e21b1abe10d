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
}

/** Whether one more record of `bytes` on top of `usage` stays within the limits. */
export function withinQuota(usage: PeerUsage, bytes: number, limits: QuotaLimits): boolean {
  return usage.records + 1 <= limits.maxRecordsPerPeer && usage.bytes + bytes <= limits.maxBytesPerPeer
}
