import { readFileSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { findUnsafeKey } from '@chorus/common'
import { parse as parseYaml } from 'yaml'
import { ConfigError } from '../errors.js'
import { writableByOthers } from '../util/files.js'
import {
  configSchema,
  defaultConfig,
  getPath,
  type NodeConfig,
  setPath,
  withDeprecatedNames
} from './schema.js'
import { EXTRA_ENV, envName, flagName, SETTING_ALIASES, SETTINGS, type Setting } from './settings.js'

export { ConfigError }

export interface LoadConfigOptions {
  /** Config file path (YAML or JSON); default: `CHORUS_CONFIG`, else none. */
  configFile?: string
  /** Environment to read `CHORUS_*` from. Default: `process.env`. */
  env?: Record<string, string | undefined>
  /** Flag values by setting path (`api.port` -> "8080"), as given on the command line. */
  flags?: Record<string, string | string[] | boolean | undefined>
  /** Base for relative paths. Default: `process.cwd()`. */
  cwd?: string
}

export interface LoadedConfig {
  config: NodeConfig
  /** Where each setting that is not a default came from (`file <path>`, `env CHORUS_X`, `flag --x`). */
  sources: Record<string, string>
  configFile?: string
  /** The deprecated setting names the configuration used, each with its current name (log them). */
  deprecated: string[]
}

/** A setting under the name it was given: its own or a deprecated one (`alias`). */
interface Named {
  setting: Setting
  alias?: string
}

const BY_PATH = new Map(SETTINGS.map((s) => [s.path, s]))
/** Current and deprecated dotted paths. */
const BY_NAME = new Map<string, Named>([
  ...SETTINGS.map((s) => [s.path, { setting: s }] as const),
  ...[...SETTING_ALIASES.values()].map((a) => [a.path, { setting: a.setting, alias: a.path }] as const)
])
/** Current and deprecated `CHORUS_*` names. */
const BY_ENV = new Map([...BY_NAME.values()].map((n) => [envName(n.alias ?? n.setting.path), n]))

/** Parse one textual value (env or flag) into the setting's type, or return a problem. */
function coerce(s: Setting, raw: string | string[] | boolean): { value?: unknown; problem?: string } {
  const text = Array.isArray(raw) ? raw.join(',') : String(raw)
  switch (s.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(text.trim()))
        return { problem: `expected a whole number, got ${JSON.stringify(text)}` }
      return { value: Number(text.trim()) }
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { value: raw }
      const t = text.trim().toLowerCase()
      if (['true', '1', 'yes', 'on'].includes(t)) return { value: true }
      if (['false', '0', 'no', 'off'].includes(t)) return { value: false }
      return { problem: `expected true or false, got ${JSON.stringify(text)}` }
    }
    case 'list':
    case 'multiaddrs':
    case 'peers': {
      const items = (Array.isArray(raw) ? raw : [text]).flatMap((x) => String(x).split(','))
      return { value: items.map((x) => x.trim()).filter((x) => x.length > 0) }
    }
    default:
      return { value: text }
  }
}

function leafPaths(obj: unknown, prefix = ''): string[] {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return prefix === '' ? [] : [prefix]
  const out: string[] = []
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix === '' ? k : `${prefix}.${k}`
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && !BY_NAME.has(p))
      out.push(...leafPaths(v, p))
    else out.push(p)
  }
  return out
}

/** Read a YAML or JSON file into a plain object, or throw a ConfigError naming the file. */
export function readStructuredFile(path: string, what: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      [`${what} ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`],
      {
        cause: err
      }
    )
  }
  const loose = writableByOthers(path)
  if (loose !== undefined) throw new ConfigError([`${what} ${loose}`])
  let data: unknown
  try {
    data = parseYaml(text)
  } catch (err) {
    throw new ConfigError(
      [`${what} ${path}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`],
      {
        cause: err
      }
    )
  }
  if (data === null || data === undefined) return {}
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([`${what} ${path}: must be a mapping of settings`])
  }
  // __proto__, constructor, prototype: copied by assignment they reach an object prototype (one
  // bad reload would change every object of the process); refused before anything copies them
  const unsafe = findUnsafeKey(data)
  if (unsafe !== undefined) throw new ConfigError([`${what} ${path}: ${unsafe} is a reserved key name`])
  return data as Record<string, unknown>
}

/**
 * Load the configuration: defaults < config file < `CHORUS_*` environment < flags. Bootstrap peers
 * are the exception the design asks for: config file (or flag) wins over the environment (and the
 * runtime assignment file, read by the agent, wins over both). Throws `ConfigError`.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const flags = options.flags ?? {}
  const problems: string[] = []
  const sources: Record<string, string> = {}
  const deprecated: string[] = []
  /** The deprecated name a setting's value came under, by the setting's path (for messages). */
  const givenAs: Record<string, string> = {}
  const merged = defaultConfig() as unknown as Record<string, unknown>

  const configFile = options.configFile ?? (env.CHORUS_CONFIG || undefined)
  const filePaths: string[] = []
  if (configFile !== undefined) {
    const file = resolve(cwd, configFile)
    const data = readStructuredFile(file, 'config file')
    const given = leafPaths(data)
    for (const p of given) {
      const named = BY_NAME.get(p)
      // an unknown key stays where it is, for the schema to name it
      if (named?.alias === undefined) {
        setPath(merged, p, getPath(data, p))
        sources[p] = `file ${file}`
        filePaths.push(p)
        continue
      }
      const path = named.setting.path
      deprecated.push(`${p} (file ${file}) is deprecated: use ${path}`)
      if (given.includes(path)) continue
      setPath(merged, path, getPath(data, p))
      sources[path] = `file ${file}`
      givenAs[path] = p
      filePaths.push(path)
    }
  }

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('CHORUS_') || raw === undefined) continue
    if (name in EXTRA_ENV) continue
    const named = BY_ENV.get(name)
    if (named === undefined) {
      problems.push(`unknown environment variable ${name} (see the README for the CHORUS_* variables)`)
      continue
    }
    const s = named.setting
    if (named.alias !== undefined) {
      deprecated.push(`${name} is deprecated: use ${envName(s.path)}`)
      // the current name wins over a deprecated one
      if (env[envName(s.path)] !== undefined) continue
    }
    // Priority for bootstrap peers: config file > environment.
    if (s.path === 'bootstrapPeers' && filePaths.includes('bootstrapPeers')) continue
    const { value, problem } = coerce(s, raw)
    if (problem !== undefined) problems.push(`${named.alias ?? s.path} (env ${name}): ${problem}`)
    else {
      setPath(merged, s.path, value)
      sources[s.path] = `env ${name}`
      if (named.alias !== undefined) givenAs[s.path] = named.alias
      else delete givenAs[s.path]
    }
  }

  for (const [path, raw] of Object.entries(flags)) {
    if (raw === undefined) continue
    const named = BY_NAME.get(path)
    if (named === undefined) {
      problems.push(`unknown setting ${path}`)
      continue
    }
    const s = named.setting
    const flag = flagName(named.alias ?? s.path)
    if (named.alias !== undefined) {
      deprecated.push(`${flag} is deprecated: use ${flagName(s.path)}`)
      // the current name wins over a deprecated one
      if (flags[s.path] !== undefined) continue
    }
    const { value, problem } = coerce(s, raw)
    if (problem !== undefined) problems.push(`${named.alias ?? s.path} (flag ${flag}): ${problem}`)
    else {
      setPath(merged, s.path, value)
      sources[s.path] = `flag ${flag}`
      if (named.alias !== undefined) givenAs[s.path] = named.alias
      else delete givenAs[s.path]
    }
  }

  if (problems.length > 0) throw new ConfigError(problems)

  const parsed = configSchema.safeParse(merged)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined]
      for (const key of keys) {
        const segs = issue.path.filter((x) => typeof x === 'string') as string[]
        const leaf = [...segs, ...(key === undefined ? [] : [key])].join('.')
        const settingPath = [...BY_PATH.keys()].find((p) => leaf === p || leaf.startsWith(`${p}.`)) ?? leaf
        const where =
          sources[settingPath] ?? sources[leaf] ?? (configFile !== undefined ? `file ${configFile}` : '')
        const index = issue.path.find((x) => typeof x === 'number')
        const item = index === undefined ? '' : ` item ${index}`
        const value = getPath(merged, settingPath)
        const shown = Array.isArray(value) && typeof index === 'number' ? value[index] : value
        const msg =
          issue.code === 'unrecognized_keys'
            ? `unknown setting ${leaf}`
            : `${givenAs[settingPath] ?? settingPath}${item}${where ? ` (${where})` : ''}: ${issue.message}${
                shown !== undefined && typeof shown !== 'object' ? `, got ${JSON.stringify(shown)}` : ''
              }`
        problems.push(issue.code === 'unrecognized_keys' && where ? `${msg} (${where})` : msg)
      }
    }
    throw new ConfigError(problems)
  }

  return {
    config: withDeprecatedNames(resolvePaths(parsed.data, cwd)),
    sources,
    ...(configFile ? { configFile } : {}),
    deprecated
  }
}

/** Make every path absolute and fill the path defaults that depend on the data directory. */
export function resolvePaths(config: NodeConfig, cwd: string): NodeConfig {
  const abs = (p: string) => (p === '' ? '' : isAbsolute(p) ? p : resolve(cwd, p))
  const dataDir = abs(config.dataDir)
  return {
    ...config,
    dataDir,
    assignmentFile:
      config.assignmentFile === '' ? join(dataDir, 'assignment.yaml') : abs(config.assignmentFile),
    rolesFile: abs(config.rolesFile),
    keys: {
      ...config.keys,
      dir: config.keys.dir === '' ? join(dataDir, 'keys') : abs(config.keys.dir),
      recipients: config.keys.recipients.map(abs)
    },
    team: { ...config.team, dir: config.team.dir === '' ? join(dataDir, 'team') : abs(config.team.dir) },
    dht: { ...config.dht, pskFile: abs(config.dht.pskFile) }
  }
}
