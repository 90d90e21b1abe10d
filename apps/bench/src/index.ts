/**
 * @chorus/bench (private): the benchmark harness's building blocks. `scripts/bench.mjs` at the
 * repository root drives them; `dist/bin/bench.js` runs the system benchmark and the simulation.
 */
export { escapeXml, formatTick, type LineChart, lineChartSvg, type Series } from './charts.js'
export { recordsFigures, recordsSection } from './records/report.js'
export {
  optionsFromEnv,
  type RecordsBenchOptions,
  runRecordsBenchmark,
  sizesFromEnv
} from './records/run.js'
export type {
  RawBaseline,
  ReadCheck,
  RecordsResult,
  RecordsRun,
  RecordsSizeResult,
  RepairResult,
  ReprovideResult
} from './records/types.js'
export {
  BENCH_PACKAGE,
  buildCharts,
  type Chart,
  formatBytes,
  formatNumber,
  formatRatio,
  formatValue,
  generateBenchmarksMd,
  type ReportOptions
} from './report.js'
export {
  type Figure,
  type Machine,
  machineInfo,
  type PackageResults,
  type PackageRun,
  type PackageStatus,
  type RunResults,
  ratioOf
} from './results.js'
export {
  type LookupStats,
  runSimulation,
  type SimulationOptions,
  type SimulationResult,
  type SizeResult
} from './sim/run.js'
export { percentile, round, type Summary, summarize } from './stats.js'
export { runSystemBenchmark, type SystemBenchOptions } from './system/run.js'
export type { SystemResult, SystemSizeResult, Throughput } from './system/types.js'
