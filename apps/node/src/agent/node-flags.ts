/**
 * The Node.js flags an agent process runs with, and the re-exec that gives them to `chorus-node
 * start` however it was launched.
 *
 * Why: an agent under a sustained write load let V8 keep far more heap than it used, so its RSS
 * after the writes depended on when the last full GC happened, not on what it held.
 * - `--max-semi-space-size=16`: V8 grows the young generation to its maximum (two semi-spaces of
 *   64 MiB on a 64-bit machine) and keeps it while a few MiB of it are live.
 * - `--heap-growing-percent=50`: the old generation may grow to 1.5x what the last full GC left
 *   before the next one, where V8's own factor goes up to 4x on a fast collector.
 * Measured (README, "The agent's Node.js flags"): five agents after 10,000 stores had 248-334 MiB
 * of RSS each, stable over 90 s of idle, where with Node's defaults they had 281-727 MiB and the
 * writer grew while idle; the same stores/s and CPU per store. V8 reads these flags only at
 * start-up (and Node refuses `--heap-growing-percent` in `NODE_OPTIONS`), so the process is
 * started with them.
 */

/** The Node.js flags the agent runs with (the CLI adds any of them the process lacks). */
export const AGENT_NODE_FLAGS: readonly string[] = Object.freeze([
  '--max-semi-space-size=16',
  '--heap-growing-percent=50'
])

/** The flags of `wanted` whose name appears in neither `execArgv` nor `NODE_OPTIONS`. */
export function missingNodeFlags(
  wanted: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName)
  return wanted.filter((flag) => !given.includes(flagName(flag)))
}

/** `--max-semi-space-size=16` and `--max_semi_space_size 16` are the same flag to V8. */
function flagName(arg: string): string {
  return arg.split('=')[0]!.replaceAll('_', '-')
}

/**
 * Replace this process by the same command with the agent's Node.js flags when it lacks any of
 * them, keeping its pid, open standard streams and environment (`process.execve`). A flag the
 * user gave, with any value, is theirs and is kept. Returns when nothing is missing or the
 * platform has no `execve` (Windows): the agent then runs with Node's defaults.
 */
export function reexecWithAgentNodeFlags(): void {
  const missing = missingNodeFlags(AGENT_NODE_FLAGS, process.execArgv, process.env.NODE_OPTIONS)
  if (missing.length === 0 || typeof process.execve !== 'function') return
  const script = process.argv[1]
  if (script === undefined) return
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, script, ...process.argv.slice(2)],
    process.env
  )
}
