/**
 * Network commands: peers (connected, or found by role or capability), announce, discover,
 * providers, replication.
 */
import type { Command } from 'commander'
import { clientFor, positiveInt } from './common.js'
import { CliError, EXIT } from './exit-codes.js'
import { emit, kv } from './output.js'

type Peers = { count: number; peers: Array<Record<string, unknown>> }

export function addNetworkCommands(program: Command): void {
  program
    .command('peers')
    .description(
      'peers this agent is connected to, with their roles when known; or, with --role or --capability, the peers that announced it on the DHT'
    )
    .option('--role <role>', 'find the peers that announced this role')
    .option('--capability <capability>', 'find the peers that announced this capability')
    .action(async (opts: { role?: string; capability?: string }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      if (opts.role !== undefined && opts.capability !== undefined) {
        throw new CliError('give --role or --capability, not both', EXIT.USAGE)
      }
      const res = (
        opts.role !== undefined
          ? await client.findPeers('role', opts.role)
          : opts.capability !== undefined
            ? await client.findPeers('capability', opts.capability)
            : await client.peers()
      ) as Peers
      emit(json, res, () =>
        [`${res.count} peer(s)`, ...res.peers.map((p) => `  ${p.id}${p.role ? `  ${p.role}` : ''}`)].join(
          '\n'
        )
      )
    })

  program
    .command('announce')
    .description('announce this agent as a provider of a UCXL address; shows the peers that acknowledged it')
    .argument('<address>', 'UCXL address')
    .action(async (address: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.announce(address)
      emit(json, res, () => `announced to ${res.count} peer(s)\n${res.peers.map((p) => `  ${p}`).join('\n')}`)
    })

  program
    .command('discover')
    .description("the peers whose provider records name a UCXL address (storage's discoverContentPeers)")
    .argument('<address>', 'UCXL address')
    .action(async (address: string, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.contentPeers(address)
      emit(json, res, () => [`${res.count} peer(s)`, ...res.peers.map((p) => `  ${p}`)].join('\n'))
    })

  program
    .command('providers')
    .description('the providers of a UCXL address, best first, with quality (0..1) and XOR distance')
    .argument('<address>', 'UCXL address')
    .option('-n, --limit <n>', 'most providers (1-100)', positiveInt, 10)
    .action(async (address: string, opts: { limit: number }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.providers(address, { limit: opts.limit })
      emit(json, res, () =>
        [
          `${res.count} provider(s)`,
          ...res.providers.map(
            (p) =>
              `  ${String(p.peerId)}  quality ${Number(p.quality).toFixed(2)}  distance ${String(p.distance)}`
          )
        ].join('\n')
      )
    })

  program
    .command('replication')
    .description('replication health: overall, or of one address')
    .argument('[address]', 'UCXL address')
    .action(async (address: string | undefined, _o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.replication(address)
      emit(json, res, () => kv(res))
    })
}
