/**
 * `chorus-node rm <address> [--purge] [--json]`: deletes an address through the running agent
 * (`DELETE /v1/content`): a signed tombstone as the next version. Exit 0 deleted, 3 nothing there
 * (or already deleted), 4 the agent's role may not write the address.
 */
import type { Command } from 'commander'
import { clientFor } from './common.js'
import { emit } from './output.js'

interface DeleteAnswer {
  address: string
  version: number
  deleted: boolean
  purgeVersions: boolean
}

/** Adds `rm` to the program. */
export function addRmCommand(program: Command): void {
  program
    .command('rm')
    .description(
      'delete the content at a UCXL address (a signed tombstone; a later put starts a new version)'
    )
    .argument('<address>', 'UCXL address (latest: *^ or no temporal segment)')
    .option('--purge', 'every holder also drops the earlier versions (else they stay readable by *~N)')
    .action(async (address: string, opts: { purge?: boolean }, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res: DeleteAnswer = await client.delete(address, opts.purge === true ? { purge: true } : {})
      emit(
        json,
        res,
        () =>
          `deleted ${res.address} at version ${res.version}${res.purgeVersions ? ' (earlier versions purged)' : ''}`
      )
    })
}
