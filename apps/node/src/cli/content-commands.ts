/** Content commands: put, get (with `^^N`'s starting version), ls, search, versions. */
import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { clientFor, positiveInt, readStdin, renderItems } from './common.js'
import { CliError, EXIT } from './exit-codes.js'
import { emit, kv } from './output.js'

export function addContentCommands(program: Command): void {
  program
    .command('put')
    .description('store content at a UCXL address (as the agent’s role)')
    .argument(
      '<address>',
      'UCXL address, e.g. ucxl://agent001:backend_developer@project123:task456/*^/decision'
    )
    .argument('[content]', 'the content (UTF-8); or --file, or standard input')
    .option('-f, --file <path>', 'read the content from a file')
    .option(
      '-t, --content-type <type>',
      'content type: decision (must be a decision record, JSON), text/plain, application/json, ...',
      'text/plain'
    )
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
        const res = await client.store({ address, content: bytes, contentType: opts.contentType })
        emit(json, res, () => `stored ${res.address}\n${kv(res.metadata, '  ')}`)
      }
    )

  program
    .command('get')
    .description('retrieve and decrypt the content at a UCXL address')
    .argument('<address>', 'UCXL address (temporal segments *^, *~, *~N, ~~N, ^^N resolve)')
    .option('-o, --out <path>', 'write the content to a file')
    .option('--fresh', 'bypass the cache and read from the network')
    .option('--from <version>', 'the version a forward segment ^^N counts from (default 1)', positiveInt)
    .action(async (address: string, opts: { out?: string; fresh?: boolean; from?: number }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.retrieve(address, {
        encoding: 'base64',
        ...(opts.fresh === true ? { fresh: true } : {}),
        ...(opts.from !== undefined ? { from: opts.from } : {})
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
    .command('versions')
    .description('every version of one UCXL address this agent knows of (its local index), oldest first')
    .argument('<address>', 'UCXL address (no wildcards; the temporal segment is ignored)')
    .option('-n, --limit <n>', 'most versions', positiveInt, 100)
    .action(async (address: string, opts: { limit: number }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.versions(address, { limit: opts.limit })
      emit(json, res, () => renderItems(res.items))
    })

  program
    .command('ls')
    .description('list content this agent knows of by creator role (its local index)')
    .option('-r, --role <role>', 'creator role (default: every role)')
    .option('-n, --limit <n>', 'most entries', positiveInt, 100)
    .action(async (opts: { role?: string; limit: number }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.list({
        ...(opts.role !== undefined ? { role: opts.role } : {}),
        limit: opts.limit
      })
      emit(json, res, () => renderItems(res.items))
    })

  program
    .command('search')
    .description(
      'search the local index by address fields or pattern, content type, creation time and decision fields'
    )
    .option('--agent <agent>')
    .option('--role <role>')
    .option('--project <project>')
    .option('--task <task>')
    .option('--address <pattern>', 'address pattern: any components, * and ** path segments')
    .option('--content-type <type>')
    .option('--decision-task <task>', "a decision's task field")
    .option('--decision-agent <agent>', "a decision's author agent")
    .option('--decision-role <role>', "a decision's author role")
    .option('--all-versions', 'every version, not only the newest per address')
    .option('--after <iso>', 'created after (ISO date-time)')
    .option('--before <iso>', 'created before (ISO date-time)')
    .option('-n, --limit <n>', 'most entries', positiveInt, 100)
    .action(async (opts: Record<string, string | number | boolean | undefined>, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
      const res = await client.search({
        agent: text(opts.agent),
        role: text(opts.role),
        project: text(opts.project),
        task: text(opts.task),
        address: text(opts.address),
        contentType: text(opts.contentType),
        decisionTask: text(opts.decisionTask),
        decisionAgent: text(opts.decisionAgent),
        decisionRole: text(opts.decisionRole),
        allVersions: opts.allVersions === true ? true : undefined,
        createdAfter: text(opts.after),
        createdBefore: text(opts.before),
        limit: Number(opts.limit)
      })
      emit(json, res, () => renderItems(res.items))
    })
}
