/**
 * `chorus-node console`: a login link for the agent's web console. The CLI (which holds the API
 * token) asks the agent for a single-use ticket valid 60 s; the link carries only that ticket,
 * which the agent exchanges for a session cookie, so the token never goes into a URL.
 */
import type { Command } from 'commander'
import { clientFor } from './common.js'
import { emit } from './output.js'

export function addConsoleCommand(program: Command): void {
  program
    .command('console')
    .description('print a single-use login link to the web console (valid 60 s; open it in a browser)')
    .action(async (_o: unknown, cmd: Command) => {
      const { client, json } = clientFor(cmd)
      const res = await client.consoleTicket()
      const url = `${client.url}${res.path}`
      emit(
        json,
        { url, expiresAt: res.expiresAt },
        () => `${url}\n(single use, valid until ${res.expiresAt})`
      )
    })
}
