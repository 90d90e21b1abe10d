// `pnpm bench`: every package's benchmark and the system benchmark + scale simulation, one at a
// time (two cores: parallel benchmarks would measure each other), then one JSON file per run in
// bench-results/ and a regenerated BENCHMARKS.md with its charts in docs/bench/.
//
//   pnpm bench                     full run (BENCHMARKS.md regenerated)
//   pnpm bench --quick             smoke run: --quick passed to each bench, small samples
//   pnpm bench --only dht,storage  only these packages (short names or full names)
//   pnpm bench --skip-build        do not build first
//   pnpm bench --report-only       regenerate BENCHMARKS.md and charts from bench-results/latest.json
//   pnpm bench --timeout 600       per-package limit in seconds (default: FULL_LIMIT_S; quick: 3 x its budget)
//   pnpm bench --budget 2400       limit of the whole run in seconds: later packages are skipped
//
// Build: a package is rebuilt only when a file of its build inputs (src/, tsconfig*.json,
// package.json: turbo.json's inputs) is newer than its newest dist/ file, or dist/ is missing, so an
// unchanged tree (e.g. right after `bash dev.sh test`) starts benchmarking at once. A full run then
// runs `turbo run build` (dependents rebuilt too, from turbo's cache where it can); a quick run
// builds only the stale packages and what they depend on (`turbo run build --filter=<pkg>`): their
// dependents run their existing dist/, which import the rebuilt one at run time.
//
// Quick budgets: every package's quick bench has a time budget (QUICK_BUDGET_S below, 30 s for
// others) that keeps the smoke run under two minutes; over it the runner warns, and at three times
// it (at least 30 s: a loaded machine) the bench is stopped (reported as timed out).
//
// A quick run writes only bench-results/<date>-quick.json: every package's own
// bench-results/latest.json is put back as it was, and BENCHMARKS.md and bench-results/latest.json
// are left alone (unless --write-md), so a smoke run never replaces the figures of a full one.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BENCH_DIR = 'apps/bench'
const RESULTS_DIR = join(ROOT, 'bench-results')
const CHARTS_DIR = 'docs/bench'

const args = process.argv.slice(2)
const flag = (name) => args.includes(name)
const option = (name) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`))
  if (i < 0) return undefined
  return args[i].includes('=') ? args[i].slice(name.length + 1) : args[i + 1]
}
const quick = flag('--quick')
const only = option('--only')
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean)
// Per-package wall-clock limits: a hung bench must not hold the whole run.
const TIMEOUT_OPTION_MS = option('--timeout') == null ? undefined : Number(option('--timeout')) * 1000
/**
 * Full runs: the longest a package's bench may take before it is stopped (a hung bench must not
 * hold the whole run), seconds. apps/bench is the longest by design: the system benchmark +
 * simulation (~25 min) and the records benchmark (100,000 records written twice and read back from
 * five agents: about an hour at the issue's 250 stores/s, hours at today's rate; BENCH_RECORDS_SIZES
 * for smaller sizes).
 */
export const FULL_LIMIT_S = { '@chorus/bench': 4 * 60 * 60 }
const fullLimitMs = (name) => (FULL_LIMIT_S[name] ?? 15 * 60) * 1000
/** Seconds each package's `bench --quick` should take on this 2-core machine (a smoke run). */
export const QUICK_BUDGET_S = {
  '@chorus/bench': 20,
  '@chorus/crypto': 20,
  '@chorus/dht': 15,
  '@chorus/storage': 18,
  '@chorus/hybrid': 10,
  '@chorus/replication': 25
}
const quickBudgetMs = (name) => (QUICK_BUDGET_S[name] ?? 30) * 1000
// Optional budget of the whole run: a package that would start after it is skipped, and a running
// one is stopped when it ends (the report says so).
const BUDGET_MS = option('--budget') == null ? Number.POSITIVE_INFINITY : Number(option('--budget')) * 1000

const started = Date.now()
const loadAtStart = loadavg()
const elapsed = () => {
  const s = Math.round((Date.now() - started) / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}
const say = (line) => process.stderr.write(`\x1b[1m[bench ${elapsed()}]\x1b[0m ${line}\n`)

/** Workspace packages (packages/* then apps/*), each with its name, folder and bench script. */
export function workspacePackages(root = ROOT) {
  const out = []
  for (const group of ['packages', 'apps']) {
    const base = join(root, group)
    if (!existsSync(base)) continue
    for (const entry of readdirSync(base).sort()) {
      const file = join(base, entry, 'package.json')
      if (!existsSync(file)) continue
      const manifest = JSON.parse(readFileSync(file, 'utf8'))
      const deps = Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })
        .filter(([, spec]) => String(spec).startsWith('workspace:'))
        .map(([dep]) => dep)
      out.push({ name: manifest.name, dir: `${group}/${entry}`, bench: manifest.scripts?.bench, deps })
    }
  }
  return out
}

/** Newest modification time (ms) of the files under `path` (a file or a folder), 0 when none. */
function newest(path) {
  if (!existsSync(path)) return 0
  const st = statSync(path)
  if (!st.isDirectory()) return st.mtimeMs
  let max = 0
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue
    max = Math.max(max, newest(join(path, entry)))
  }
  return max
}

/**
 * Workspace packages whose dist/ is missing or older than one of their build inputs (turbo.json:
 * src/**, tsconfig*.json, package.json).
 */
export function staleBuilds(root = ROOT) {
  const stale = []
  for (const pkg of workspacePackages(root)) {
    const dir = join(root, pkg.dir)
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    if (manifest.scripts?.build == null) continue
    const built = newest(join(dir, 'dist'))
    const inputs = Math.max(
      newest(join(dir, 'src')),
      newest(join(dir, 'package.json')),
      ...readdirSync(dir)
        .filter((f) => /^tsconfig.*\.json$/.test(f))
        .map((f) => newest(join(dir, f)))
    )
    if (built === 0 || inputs > built) stale.push(pkg)
  }
  return stale
}

/** The names of `packages` and every workspace package they depend on, transitively. */
function withDependencies(packages) {
  const byName = new Map(workspacePackages().map((p) => [p.name, p]))
  const out = new Set()
  const visit = (name) => {
    if (out.has(name) || !byName.has(name)) return
    out.add(name)
    for (const dep of byName.get(name).deps) visit(dep)
  }
  for (const p of packages) visit(p.name)
  return out
}

async function build() {
  // only what the benches to run need: the selected packages with a bench and their dependencies
  const needed = withDependencies(workspacePackages().filter((p) => p.bench != null && wanted(p)))
  const stale = staleBuilds().filter((p) => needed.has(p.name))
  if (stale.length === 0) {
    say('build: the benches to run and what they import are built from their current sources')
    return
  }
  const names = stale.map((p) => p.name)
  const filters = quick ? names.flatMap((n) => ['--filter', n]) : []
  say(
    `build: ${names.join(', ')} changed since ${stale.length === 1 ? 'its' : 'their'} last build: turbo run build${quick ? ` for ${stale.length === 1 ? 'it' : 'them'} (and what ${stale.length === 1 ? 'it needs' : 'they need'})` : ''}`
  )
  const result = await run(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--continue', ...filters],
    { cwd: ROOT, prefix: '[build]', timeoutMs: 15 * 60_000 }
  )
  if (result.code !== 0) say('build reported errors: the benches of broken packages will fail and be listed')
}

function wanted(pkg) {
  if (only == null) return true
  return only.some((o) => pkg.name === o || pkg.name === `@chorus/${o}` || pkg.dir.endsWith(`/${o}`))
}

/** Runs a command, streaming its output with a prefix; resolves { code, timedOut, tail }. */
function run(cmd, cmdArgs, { cwd, prefix, timeoutMs, path = [] }) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, cmdArgs, {
      cwd,
      detached: true, // its own process group, so a timeout ends the whole tree
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PATH: [...path, process.env.PATH].join(':'),
        FORCE_COLOR: '0',
        TURBO_TELEMETRY_DISABLED: '1',
        DO_NOT_TRACK: '1'
      }
    })
    const tail = []
    let lastOutput = Date.now()
    const onData = (stream) => {
      let partial = ''
      stream.on('data', (chunk) => {
        lastOutput = Date.now()
        partial += chunk.toString()
        const lines = partial.split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) {
          if (line.trim() === '') continue
          tail.push(line)
          if (tail.length > 40) tail.shift()
          process.stderr.write(`  ${prefix} ${line.length > 240 ? `${line.slice(0, 240)}…` : line}\n`)
        }
      })
    }
    onData(child.stdout)
    onData(child.stderr)
    const heartbeat = setInterval(() => {
      if (Date.now() - lastOutput > 30_000)
        say(`${prefix} still running (no output for ${Math.round((Date.now() - lastOutput) / 1000)} s)`)
    }, 30_000)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      say(`${prefix} over its ${Math.round(timeoutMs / 1000)} s limit: stopping it`)
      try {
        process.kill(-child.pid, 'SIGTERM')
        setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL')
          } catch {}
        }, 5_000).unref()
      } catch {}
    }, timeoutMs)
    child.on('close', (code) => {
      clearInterval(heartbeat)
      clearTimeout(timer)
      resolvePromise({ code, timedOut, tail })
    })
    child.on('error', (err) => {
      clearInterval(heartbeat)
      clearTimeout(timer)
      resolvePromise({ code: -1, timedOut: false, tail: [err.message] })
    })
  })
}

function readResults(dir, since) {
  const file = join(ROOT, dir, 'bench-results', 'latest.json')
  if (!existsSync(file)) return { status: 'no-results' }
  if (statSync(file).mtimeMs < since) return { status: 'stale' }
  try {
    const results = JSON.parse(readFileSync(file, 'utf8'))
    if (!Array.isArray(results.results))
      return { status: 'no-results', error: 'latest.json has no results array' }
    return { status: 'measured', results }
  } catch (err) {
    return { status: 'no-results', error: `latest.json unreadable: ${err.message}` }
  }
}

const errorSummary = (tail) =>
  tail
    .filter((l) => /error|fail|throw|cannot|not found/i.test(l))
    .slice(-2)
    .join(' / ')
    .slice(0, 300) || tail.slice(-1).join('').slice(0, 300)

async function loadReportModule() {
  const entry = join(ROOT, BENCH_DIR, 'dist', 'index.js')
  if (!existsSync(entry)) throw new Error(`${BENCH_DIR} is not built (${relative(ROOT, entry)} missing)`)
  return import(pathToFileURL(entry).href)
}

async function writeReport(runResults, runFile) {
  const report = await loadReportModule()
  const charts = report.buildCharts(runResults)
  mkdirSync(join(ROOT, CHARTS_DIR), { recursive: true })
  for (const chart of charts) writeFileSync(join(ROOT, CHARTS_DIR, chart.file), chart.svg)
  const md = report.generateBenchmarksMd(runResults, { runFile, chartsDir: CHARTS_DIR, charts })
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), md)
  say(`wrote BENCHMARKS.md and ${charts.length} chart(s) in ${CHARTS_DIR}/`)
}

async function main() {
  if (flag('--report-only')) {
    const file = join(RESULTS_DIR, 'latest.json')
    const runResults = JSON.parse(readFileSync(file, 'utf8'))
    const runFile = runResults.file ?? 'bench-results/latest.json'
    await writeReport(runResults, runFile)
    return
  }
  say(`${quick ? 'quick smoke run' : 'full run'}: benchmarks run one at a time`)
  if (!flag('--skip-build')) await build()
  const all = workspacePackages()
  // apps/bench (system benchmark + simulation, the longest) runs first, so a package overrunning
  // later cannot crowd it out; then the packages whose figures the issues ask for, then the rest.
  const FIRST = [BENCH_DIR, 'packages/crypto', 'packages/dht', 'packages/storage']
  const rank = (p) => (FIRST.includes(p.dir) ? FIRST.indexOf(p.dir) : FIRST.length)
  const ordered = [...all].sort((a, b) => rank(a) - rank(b))
  const selected = ordered.filter(wanted)
  const toRun = selected.filter((p) => p.bench != null)
  const packages = []
  let index = 0
  for (const pkg of selected) {
    if (pkg.bench == null) {
      packages.push({ package: pkg.name, dir: pkg.dir, status: 'no-bench' })
      continue
    }
    index++
    const left = BUDGET_MS - (Date.now() - started)
    if (left < 30_000) {
      say(`[${index}/${toRun.length}] ${pkg.name}: skipped, the run's --budget is spent`)
      packages.push({ package: pkg.name, dir: pkg.dir, status: 'skipped', error: 'the run budget was spent' })
      continue
    }
    say(`[${index}/${toRun.length}] ${pkg.name} (${pkg.dir}): ${pkg.bench}${quick ? ' --quick' : ''}`)
    // A quick run keeps the package's own latest.json as it was (its figures stay those of a full
    // run); the quick figures go only into this run's file.
    const resultsFile = join(ROOT, pkg.dir, 'bench-results', 'latest.json')
    const keep =
      quick && !flag('--write-md') ? (existsSync(resultsFile) ? readFileSync(resultsFile) : null) : undefined
    // Figures of an earlier run, shown (marked as such) when this run gets none.
    const earlier = readResults(pkg.dir, 0)
    const t0 = Date.now()
    const budgetMs = quick ? quickBudgetMs(pkg.name) : undefined
    // The package's bench script run directly by the shell, as `pnpm run bench` would (its
    // node_modules/.bin first on PATH), without pnpm's own start-up on every package.
    const result = await run('sh', ['-c', `${pkg.bench}${quick ? ' --quick' : ''}`], {
      cwd: join(ROOT, pkg.dir),
      path: [join(ROOT, pkg.dir, 'node_modules', '.bin'), join(ROOT, 'node_modules', '.bin')],
      prefix: `[${pkg.name.replace('@chorus/', '')}]`,
      timeoutMs: Math.min(
        TIMEOUT_OPTION_MS ?? (quick ? Math.max(3 * budgetMs, 30_000) : fullLimitMs(pkg.name)),
        left
      )
    })
    const durationMs = Date.now() - t0
    const found = readResults(pkg.dir, t0)
    let entry
    if (result.timedOut) {
      entry = { status: 'timeout', error: `stopped after ${Math.round(durationMs / 1000)} s` }
    } else if (result.code !== 0) {
      entry = { status: 'failed', error: `exit code ${result.code}: ${errorSummary(result.tail)}` }
    } else {
      entry = found.status === 'measured' ? found : { status: found.status, error: found.error }
    }
    // A bench that failed late may still have written its figures: keep them, say it failed.
    if (entry.status !== 'measured' && found.status === 'measured') entry.results = found.results
    else if (entry.status !== 'measured' && earlier.status === 'measured' && !quick)
      entry.earlier = earlier.results
    if (budgetMs != null && durationMs > budgetMs) {
      entry.overBudget = `took ${Math.round(durationMs / 1000)} s, over its quick budget of ${budgetMs / 1000} s`
    }
    if (keep !== undefined) {
      if (keep === null) rmSync(resultsFile, { force: true })
      else writeFileSync(resultsFile, keep)
    }
    packages.push({ package: pkg.name, dir: pkg.dir, durationMs, ...entry })
    say(
      `[${index}/${toRun.length}] ${pkg.name}: ${entry.status} in ${Math.round(durationMs / 1000)} s${entry.overBudget != null ? ` (${entry.overBudget})` : ''}`
    )
  }
  let machine
  try {
    machine = (await loadReportModule()).machineInfo()
  } catch {
    const os = await import('node:os')
    machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      totalMemBytes: os.totalmem(),
      platform: `${process.platform}-${process.arch}`
    }
  }
  const date = new Date().toISOString()
  const stamp = date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')
  const runFile = `bench-results/${stamp}${quick ? '-quick' : ''}.json`
  const loadAtEnd = loadavg()
  const runResults = {
    date,
    quick,
    machine,
    durationMs: Date.now() - started,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    file: runFile,
    packages
  }
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(join(ROOT, runFile), `${JSON.stringify(runResults, null, 2)}\n`)
  say(`wrote ${runFile}`)
  if (!quick || flag('--write-md')) {
    writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(runResults, null, 2)}\n`)
    await writeReport(runResults, runFile)
  } else {
    // the report is generated all the same (and dropped), so a smoke run checks the generator too
    try {
      const report = await loadReportModule()
      const charts = report.buildCharts(runResults)
      report.generateBenchmarksMd(runResults, { runFile, chartsDir: CHARTS_DIR, charts })
    } catch (err) {
      say(`the report generator failed on this run: ${err.stack ?? err.message}`)
      process.exitCode = 1
    }
    say(
      'quick run: BENCHMARKS.md and bench-results/latest.json left as they are (--write-md to replace them)'
    )
  }
  const counts = {}
  for (const p of packages) counts[p.status] = (counts[p.status] ?? 0) + 1
  for (const p of packages.filter((x) => x.overBudget != null)) say(`${p.package}: ${p.overBudget}`)
  for (const p of packages.filter((x) => ['failed', 'timeout', 'no-results', 'stale'].includes(x.status)))
    say(`${p.package}: ${p.status}${p.error != null ? ` (${p.error})` : ''}`)
  // a smoke run is a check: any bench that failed, timed out or wrote nothing fails it
  if (quick && packages.some((p) => ['failed', 'timeout', 'no-results', 'stale'].includes(p.status)))
    process.exitCode = 1
  say(
    `done in ${elapsed()}: ${Object.entries(counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}`
  )
}

if (process.argv[1] != null && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    say(`failed: ${err.stack ?? err.message}`)
    process.exit(1)
  })
}
