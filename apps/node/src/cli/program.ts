import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { ConfigError, loadConfig } from '../config/load.js'
import { flagName, SETTINGS } from '../config/settings.js'
import { clientFor, type GlobalOpts } from './common.js'
import { addConsoleCommand } from './console-command.js'
import { addContentCommands } from './content-commands.js'
import { CliError, EXIT } from './exit-codes.js'
import { addMcpCommand } from './mcp-command.js'
import { addNetworkCommands } from './network-commands.js'
import { emit, kv } from './output.js'
import { addRmCommand } from './rm-command.js'
import { addTeamCommands } from './team-commands.js'

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
    .command('status')
    .description('agent status: identity, role, network, storage, hybrid backend')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.status()
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
          ? await client.hybrid()
          : await client.switchBackend(mode as 'auto' | 'real' | 'mock')
      emit(json, res, () => kv(res))
    })

  const audit = program.command('audit').description('audit log')
  audit
    .command('verify')
    .description("verify the agent's signed audit log (exit 1 when broken or switched off)")
    .action(async (_o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res: Record<string, unknown> = await client.auditVerify()
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

  // every command group, registered here and nowhere else (each file under cli/ says what it holds)
  addContentCommands(program)
  addNetworkCommands(program)
  addTeamCommands(program)
  addRmCommand(program)
  addConsoleCommand(program)
  addMcpCommand(program, readVersion())

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
