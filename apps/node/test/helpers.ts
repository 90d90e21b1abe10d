import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The tests run the built executable (dist/bin/chorus-node.js), as users do: build first.
import {
  type AgentProcess,
  BIN_PATH,
  dialAddress,
  liveAgents,
  type StartAgentOptions,
  startAgentProcess as start,
  stopLiveAgents
} from '../src/demo/agents.js'
import { admitMember, initTeam } from '../src/team/admin.js'

export type { AgentProcess }
export { BIN_PATH, dialAddress }

// No agent a test started outlives the test file, even after a timeout.
process.on('exit', () => {
  for (const child of liveAgents) child.kill('SIGKILL')
})

export function startAgentProcess(options: StartAgentOptions): Promise<AgentProcess> {
  return start(options)
}

/** Stop every agent still running (afterAll of each test file). */
export function stopAllAgents(): Promise<void> {
  return stopLiveAgents()
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Run `chorus-node <args>` and collect its output. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const clean: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env))
      if (v !== undefined && !k.startsWith('CHORUS_')) clean[k] = v
    const child = spawn(process.execPath, [BIN_PATH, ...args], {
      env: { ...clean, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => {
      stdout += d
    })
    child.stderr!.on('data', (d) => {
      stderr += d
    })
    if (input !== undefined) child.stdin?.end(input)
    const timer = setTimeout(() => child.kill('SIGKILL'), 230_000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export interface Team {
  root: string
  /** The team directory (`chorus-node team init`): team.json, shares/, role-keys/. */
  teamDir: string
  /** The root share files (3 of 5 sign). */
  shares: string[]
  /** Temp dir of one admitted agent: its team files and its role's identity in `<dir>/keys`. */
  dataDir(name: string): string
  cleanup(): void
}

/** The agent id a test member gets: `agent001` for backend_developer (the seed's address), else its name. */
export function agentIdFor(name: string, role: string): string {
  return role === 'backend_developer' && name === role ? 'agent001' : name.replace(/_/g, '-')
}

/**
 * A real team in a temp directory (root in 3-of-5 shares, one key per role, manifest v1) and one
 * admitted member per name, each holding the identity of its role.
 */
export async function makeTeam(roles: string[], names: string[] = roles): Promise<Team> {
  const root = mkdtempSync(join(tmpdir(), 'chorus-node-test-'))
  const teamDir = join(root, 'team-admin')
  const made = await initTeam({ dir: teamDir })
  for (const [i, role] of roles.entries()) {
    const name = names[i] ?? role
    await admitMember({
      dir: teamDir,
      shares: made.shareFiles.slice(0, 3),
      agent: agentIdFor(name, role),
      roles: [role],
      member: join(root, name),
      withRoleKeys: true
    })
  }
  return {
    root,
    teamDir,
    shares: made.shareFiles,
    dataDir: (name) => join(root, name),
    cleanup: () => rmSync(root, { recursive: true, force: true })
  }
}

/** Settings that make a local test network converge quickly. */
export function fastEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CHORUS_JOIN_STAGGER_MS: '200',
    CHORUS_LOG_LEVEL: 'info',
    CHORUS_REPLICATION_REPAIR_INTERVAL_MS: '1500',
    CHORUS_HYBRID_HEALTH_CHECK_INTERVAL_MS: '1000',
    CHORUS_DHT_DISCOVERY_INTERVAL_MS: '2000',
    CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL_MS: '1000',
    CHORUS_SHUTDOWN_TIMEOUT_MS: '15000',
    ...extra
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Poll until `fn` returns a truthy value or the time is up (then the last value is returned). */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs = 20_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn().catch(() => undefined as T)
    if (v || Date.now() > deadline) return v
    await sleep(everyMs)
  }
}

/**
 * A small Prometheus text-format (0.0.4) check: every sample line is `name{labels} value`,
 * every family has HELP and TYPE before its samples; returns sample values by name.
 */
export function parsePrometheus(text: string): Map<string, number[]> {
  const samples = new Map<string, number[]>()
  const typed = new Map<string, string>()
  const helped = new Set<string>()
  const SAMPLE =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*,?)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      helped.add(line.split(' ')[2]!)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type!))
        throw new Error(`line ${i + 1}: bad type ${type}`)
      typed.set(name!, type!)
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (m === null) throw new Error(`line ${i + 1} is not a Prometheus sample: ${line}`)
    const name = m[1]!
    const family = [...typed.keys()].find((f) => name === f || name.startsWith(`${f}_`))
    if (family === undefined) throw new Error(`line ${i + 1}: sample ${name} has no # TYPE`)
    if (!helped.has(family)) throw new Error(`line ${i + 1}: family ${family} has no # HELP`)
    const list = samples.get(name) ?? []
    list.push(Number(m[3]))
    samples.set(name, list)
  }
  return samples
}
