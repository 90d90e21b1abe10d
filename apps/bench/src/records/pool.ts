/** Runs `count` operations with a fixed number in flight; counts successes, failures and the first errors. */
export interface PoolResult {
  ok: number
  failed: number
  ms: number
  /** The first few error messages (with their counts by message). */
  errors: Record<string, number>
  /** The operations that failed (their `i`). */
  failedIndices: number[]
}

export async function runPool(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
  first = 0
): Promise<PoolResult> {
  let next = first
  const end = first + count
  let ok = 0
  let failed = 0
  const errors: Record<string, number> = {}
  const failedIndices: number[] = []
  const started = performance.now()
  const worker = async (): Promise<void> => {
    while (next < end) {
      const i = next++
      try {
        await op(i)
        ok++
      } catch (err) {
        failed++
        failedIndices.push(i)
        // grouped by kind: the record's own address would make every failure a kind of its own
        const msg = ((err as Error).message ?? String(err))
          .replace(/ucxl:\/\/\S+/g, '<address>')
          .slice(0, 160)
        if (msg in errors || Object.keys(errors).length < 8) errors[msg] = (errors[msg] ?? 0) + 1
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker))
  return { ok, failed, ms: performance.now() - started, errors, failedIndices }
}

/** The 1 KiB (or `bytes`) text content of record `i`: its own, so a read proves which record it got. */
export function recordContent(i: number, bytes: number): string {
  const head = `record ${i} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

/** The address of record `i`, written by `agentId` (the team write rule: its own addresses). */
export function recordAddress(agentId: string, role: string, i: number): string {
  return `ucxl://${agentId}:${role}@bench:records/*^/r${i}`
}
