import { readFileSync, writeFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { ConfigError, loadConfig } from '../config/load.js'
import { flagName, SETTINGS } from '../config/settings.js'
import { type AgentClient, createClient } from './client.js'
import { CliError, EXIT } from './exit-codes.js'
import { emit, kv } from './output.js'
import { addRmCommand } from './rm-command.js'
import { addTeamCommands } from './team-commands.js'

interface GlobalOpts {
  dataDir?: string
  agentUrl?: string
  /** Refused: kept only to say why (see the option's definition). */
  token?: string
  json?: boolean
  timeout?: string
}

function clientFor(cmd: Command): { client: AgentClient; json: boolean } {
  const o = cmd.optsWithGlobals<GlobalOpts>()
  if (o.token !== undefined) {
    throw new CliError(
      '--token is refused: every user on this machine can read it with `ps`; set CHORUS_API_TOKEN, or let the CLI read <dataDir>/api-token',
      EXIT.USAGE
    )
  }
  const timeoutMs = o.timeout !== undefined ? Number(o.timeout) : undefined
  return {
    client: createClient({
      ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
      ...(o.agentUrl !== undefined ? { agentUrl: o.agentUrl } : {}),
      ...(timeoutMs !== undefined && Number.isFinite(timeoutMs) ? { timeoutMs } : {})
    }),
    json: o.json === true
  }
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`expected a positive whole number, got ${JSON.stringify(value)}`, EXIT.USAGE)
  return n
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** Add one flag per setting (`--api-port <value>`...), plus --config and --print-config, to `start`. */
function addSettingFlags(cmd: Command): Map<string, string> {
  const attrToPath = new Map<string, string>()
  cmd.option('-c, --config <file>', 'config file (YAML or JSON); env CHORUS_CONFIG')
  for (const s of SETTINGS) {
    const repeatable = s.kind === 'list' || s.kind === 'multiaddrs' || s.kind === 'peers'
    const opt = new Option(`${flagName(s.path)} <value>`, `${s.doc}${repeatable ? ' (repeatable)' : ''}`)
    if (repeatable) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    cmd.addOption(opt)
    attrToPath.set(opt.attributeName(), s.path)
    // deprecated names: still accepted, not shown in the help
    for (const alias of s.aliases ?? []) {
      const old = new Option(`${flagName(alias)} <value>`, `deprecated: use ${flagName(s.path)}`).hideHelp()
      cmd.addOption(old)
      attrToPath.set(old.attributeName(), alias)
    }
  }
  return attrToPath
}

export function buildProgram(): Command {
  const program = new Command('chorus-node')
    .description('CHORUS agent: encrypted, role-based, replicated content on a libp2p DHT')
    .version(readVersion(), '-V, --version')
    .option(
      '--data-dir <dir>',
      "agent data directory (finds the agent's URL and token); env CHORUS_DATA_DIR",
      undefined
    )
    .option('--agent-url <url>', 'agent API URL; env CHORUS_AGENT_URL')
    // A token on the command line is visible to every user in `ps`: the option exists only to
    // refuse it with a reason instead of commander's "unknown option".
    .addOption(new Option('--token <token>').hideHelp())
    .option('--timeout <ms>', 'request timeout in ms', '60000')
    .option('--json', 'machine-readable JSON output')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage/invalid config or input, 3 not found, 4 access denied,
5 agent unreachable, 6 agent not ready/timeout.`
    )

  const start = program
    .command('start')
    .description('run the agent in the foreground (config: defaults < file < CHORUS_* env < flags)')
    .option('--print-config', 'print the effective configuration as JSON and exit')
  const attrToPath = addSettingFlags(start)
  start.action(async (opts: Record<string, unknown>, cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOpts>()
    const flags: Record<string, string | string[] | undefined> = {}
    for (const [attr, path] of attrToPath) flags[path] = opts[attr] as string | string[] | undefined
    if (g.dataDir !== undefined && flags.dataDir === undefined) flags.dataDir = g.dataDir
    const loaded = loadConfig({
      ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
      flags
    })
    if (opts.printConfig === true) {
      console.log(JSON.stringify(loaded.config, null, 2))
      return
    }
    const { runAgent } = await import('../agent/run.js')
    const code = await runAgent(loaded)
    process.exitCode = code
  })

  program
    .command('put')
    .description('store content at a UCXL address (as the agent’s role)')
    .argument(
      '<address>',
      'UCXL address, e.g. ucxl://agent001:backend_developer@project123:task456/*^/decision'
    )
    .argument('[content]', 'the content (UTF-8); or --file, or standard input')
    .option('-f, --file <path>', 'read the content from a file')
    .option('-t, --content-type <type>', 'content type (decision, suggestion, file, ...)', 'decision')
    .action(
      async (
        address: string,
        content: string | undefined,
        opts: { file?: string; contentType: string },
        cmd: Command
      ) => {
        const { client, json } = clientFor(cmd)
        let bytes: Buffer
        if (content !== undefined) bytes = Buffer.from(content, 'utf8')
        else if (opts.file !== undefined) bytes = readFileSync(opts.file)
        else if (!process.stdin.isTTY) bytes = await readStdin()
        else
          throw new CliError('give the content as an argument, with --file, or on standard input', EXIT.USAGE)
        const res = await client.post<{ address: string; metadata: Record<string, unknown> }>('/v1/content', {
          address,
          contentBase64: bytes.toString('base64'),
          contentType: opts.contentType
        })
        emit(json, res, () => `stored ${res.address}\n${kv(res.metadata, '  ')}`)
      }
    )

  program
    .command('get')
    .description('retrieve and decrypt the content at a UCXL address')
    .argument('<address>', 'UCXL address (temporal segments *^, *~, *~N, ~~N, ^^N resolve)')
    .option('-o, --out <path>', 'write the content to a file')
    .option('--fresh', 'bypass the cache and read from the network')
    .action(async (address: string, opts: { out?: string; fresh?: boolean }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<{ content: string; metadata: Record<string, unknown> }>('/v1/content', {
        address,
        encoding: 'base64',
        fresh: opts.fresh === true ? true : undefined
      })
      const bytes = Buffer.from(res.content, 'base64')
      if (opts.out !== undefined) writeFileSync(opts.out, bytes)
      if (json) emit(true, { ...res, content: bytes.toString('utf8'), contentBase64: res.content })
      else if (opts.out === undefined)
        process.stdout.write(
          bytes.toString('utf8').endsWith('\n') ? bytes : Buffer.concat([bytes, Buffer.from('\n')])
        )
      else console.log(`wrote ${bytes.length} bytes to ${opts.out}`)
    })

  program
    .command('ls')
    .description('list content this agent knows of by creator role (its local index)')
    .option('-r, --role <role>', 'creator role (default: every role)')
    .option('-n, --limit <n>', 'most entries', positiveInt, 100)
    .action(async (opts: { role?: string; limit: number }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<{ count: number; items: Array<Record<string, unknown>> }>('/v1/list', {
        role: opts.role,
        limit: opts.limit
      })
      emit(json, res, () => renderItems(res.items))
    })

  program
    .command('search')
    .description('search the local index by address fields, content type and creation time')
    .option('--agent <agent>')
    .option('--role <role>')
    .option('--project <project>')
    .option('--task <task>')
    .option('--content-type <type>')
    .option('--after <iso>', 'created after (ISO date-time)')
    .option('--before <iso>', 'created before (ISO date-time)')
    .option('-n, --limit <n>', 'most entries', positiveInt, 100)
    .action(async (opts: Record<string, string | number | undefined>, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<{ count: number; items: Array<Record<string, unknown>> }>('/v1/search', {
        agent: opts.agent,
        role: opts.role,
        project: opts.project,
        task: opts.task,
        contentType: opts.contentType,
        createdAfter: opts.after,
        createdBefore: opts.before,
        limit: opts.limit
      })
      emit(json, res, () => renderItems(res.items))
    })

  program
    .command('status')
    .description('agent status: identity, role, network, storage, hybrid backend')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<Record<string, unknown>>('/v1/status')
      emit(json, res, () => kv(res))
    })

  program
    .command('peers')
    .description('peers this agent is connected to, with their roles when known')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<{ count: number; peers: Array<Record<string, unknown>> }>('/v1/peers')
      emit(json, res, () =>
        [`${res.count} peer(s)`, ...res.peers.map((p) => `  ${p.id}${p.role ? `  ${p.role}` : ''}`)].join(
          '\n'
        )
      )
    })

  program
    .command('replication')
    .description('replication health: overall, or of one address')
    .argument('[address]', 'UCXL address')
    .action(async (address: string | undefined, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<Record<string, unknown>>('/v1/replication', { address })
      emit(json, res, () => kv(res))
    })

  program
    .command('backend')
    .description('hybrid DHT backend: show it, or switch (auto: health decides; real: network; mock: local)')
    .argument('[mode]', 'auto | real | mock')
    .action(async (mode: string | undefined, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      if (mode !== undefined && !['auto', 'real', 'mock'].includes(mode)) {
        throw new CliError(`mode must be auto, real or mock, got ${JSON.stringify(mode)}`, EXIT.USAGE)
      }
      const res =
        mode === undefined
          ? await client.get<Record<string, unknown>>('/v1/hybrid')
          : await client.post<Record<string, unknown>>('/v1/hybrid/backend', { mode })
      emit(json, res, () => kv(res))
    })

  const audit = program.command('audit').description('audit log')
  audit
    .command('verify')
    .description("verify the agent's signed audit log (exit 1 when broken or switched off)")
    .action(async (_o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.get<Record<string, unknown>>('/v1/audit/verify')
      emit(json, res, () => kv(res))
      if (res.valid === false || res.ok === false) process.exitCode = EXIT.FAILURE
    })

  program
    .command('keygen')
    .description('generate an age key for a role: identity file (0600) and its public recipient')
    .requiredOption('-r, --role <role>', 'role name')
    .option('-o, --out <dir>', 'directory for the identity file', './.chorus/keys')
    .option('--recipients <file>', 'also add the public recipient to this recipients file (YAML/JSON)')
    .action(async (opts: { role: string; out: string; recipients?: string }, cmd: Command) => {
      const json = cmd.optsWithGlobals<GlobalOpts>().json === true
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(opts.role)) {
        throw new CliError(
          `invalid role name ${JSON.stringify(opts.role)} (letters, digits, _ or -)`,
          EXIT.USAGE
        )
      }
      const { generateKeyFiles } = await import('../agent/keys.js')
      const res = await generateKeyFiles(opts.role, opts.out, opts.recipients)
      emit(json, res, () => kv(res as unknown as Record<string, unknown>))
    })

  program
    .command('demo')
    .description('start 5 local agents and show the whole mission working (< 1 minute)')
    .option('--keep', 'keep the temporary data directory')
    .action(async (opts: { keep?: boolean }, cmd: Command) => {
      const json = cmd.optsWithGlobals<GlobalOpts>().json === true
      const { runDemo } = await import('../demo/run.js')
      const ok = await runDemo({
        keep: opts.keep === true,
        json,
        print: (line) => console.log(line)
      })
      if (!ok) process.exitCode = EXIT.FAILURE
    })

  addTeamCommands(program)
  addRmCommand(program)

  // Every command: --json and --help, and usage errors exit 2.
  for (const c of allCommands(program)) {
    c.exitOverride()
    if (c !== program && !c.options.some((o) => o.long === '--json'))
      c.option('--json', 'machine-readable JSON output')
  }
  return program
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)]
}

function renderItems(items: Array<Record<string, unknown>>): string {
  if (items.length === 0) return '(nothing)'
  const when = (t: unknown) => (typeof t === 'number' ? new Date(t).toISOString() : String(t ?? ''))
  return items
    .map(
      (i) =>
        `${String(i.address ?? '?')}  ${String(i.contentType ?? '')}  ${String(i.creatorRole ?? '')}  ${String(i.size ?? '')} B  ${when(i.timestamp)}`
    )
    .join('\n')
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string
    }
    return pkg.version ?? '0.0.0'
  } catch {
    return '0.0.0'
  }
}

/** Run the CLI and resolve to its exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return EXIT.OK
      }
      return EXIT.USAGE
    }
    const json = argv.includes('--json')
    if (ConfigError.isInstance(err)) {
      console.error(`chorus-node: ${err.message}`)
      return EXIT.USAGE
    }
    if (CliError.isInstance(err)) {
      const message = err.message.startsWith(`${err.code}: `)
        ? err.message.slice(err.code.length + 2)
        : err.message
      if (json) console.error(JSON.stringify({ error: { code: err.code, message } }))
      else console.error(`chorus-node: ${err.message}`)
      return err.exitCode
    }
    console.error(`chorus-node: ${(err as Error)?.message ?? String(err)}`)
    return EXIT.FAILURE
  }
}
