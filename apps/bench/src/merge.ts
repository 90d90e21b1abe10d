/**
 * An `--only <part>` run of apps/bench's benchmark replaces that part of
 * bench-results/latest.json and keeps the others from the file before it (their details, their
 * figures and the date each was measured), so that a partial run never drops another part's
 * results. Pure: the tests feed it sample files.
 */
import type { PackageResults } from './results.js'

export const BENCH_PARTS = ['system', 'simulation', 'records', 'lab'] as const
export type BenchPart = (typeof BENCH_PARTS)[number]

/** The part a headline figure belongs to, by the prefix of its name. */
export function partOfFigure(name: string): BenchPart | undefined {
  return BENCH_PARTS.find((p) => name.startsWith(`${p} `))
}

export function isBenchPart(value: string | undefined): value is BenchPart {
  return (BENCH_PARTS as readonly string[]).includes(value ?? '')
}

/**
 * `current` (what an `--only ran` run measured) with every other part of `previous` kept:
 * details, figures, and `measuredAt` (when each part was measured; a part of a file without it
 * was measured at that file's date). A `previous` of another package or none gives `current`.
 */
export function mergePartialRun(
  previous: PackageResults | undefined,
  current: PackageResults,
  ran: BenchPart
): PackageResults {
  const measuredAt: Partial<Record<BenchPart, string>> = {}
  if (previous == null || previous.package !== current.package) {
    return { ...current, measuredAt: { [ran]: current.date } }
  }
  const kept: Record<string, unknown> = {}
  // each part's detail is copied as it was (same shape: the file is this package's own)
  for (const part of BENCH_PARTS) {
    if (part === ran) continue
    const detail = previous.details?.[part]
    if (detail == null) continue
    kept[part] = detail
    measuredAt[part] = previous.measuredAt?.[part] ?? previous.date
  }
  measuredAt[ran] = current.date
  return {
    ...current,
    measuredAt,
    results: [...previous.results.filter((f) => partOfFigure(f.name) !== ran), ...current.results],
    details: { ...(kept as NonNullable<PackageResults['details']>), ...current.details }
  }
}
