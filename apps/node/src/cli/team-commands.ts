/** `chorus-node team init | admit | show`: the team's root of trust, offline, from a team directory. */
import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { CliError, EXIT } from './exit-codes.js'
import { emit, kv } from './output.js'

function isJson(cmd: Command): boolean {
  return cmd.optsWithGlobals<{ json?: boolean }>().json === true
}

function count(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 255) {
    throw new CliError(`expected a whole number from 1 to 255, got ${JSON.stringify(value)}`, EXIT.USAGE)
  }
  return n
}

function collect(value: string, prev: string[] = []): string[] {
  return [...prev, ...value.split(',').filter((v) => v !== '')]
}

export function addTeamCommands(program: Command): void {
  const team = program
    .command('team')
    .description("the team's root of trust: make a team, admit members (offline, with k of n root shares)")

  team
    .command('init')
    .description('make a team: root key split into Shamir shares, one age key per role, manifest v1')
    .requiredOption('-d, --dir <dir>', 'team directory to create (team.json, shares/, role-keys/)')
    .option('-n, --shares <n>', 'number of root shares', count, 5)
    .option('-k, --threshold <k>', 'shares needed to sign', count, 3)
    .option('--roles-file <file>', 'roles for the manifest (YAML/JSON); default the predefined roles')
    .action(
      async (opts: { dir: string; shares: number; threshold: number; rolesFile?: string }, cmd: Command) => {
        if (opts.threshold > opts.shares) {
          throw new CliError('the threshold cannot be above the number of shares', EXIT.USAGE)
        }
        const { initTeam } = await import('../team/admin.js')
        const res = await initTeam({
          dir: opts.dir,
          shares: opts.shares,
          threshold: opts.threshold,
          ...(opts.rolesFile !== undefined ? { rolesFile: opts.rolesFile } : {})
        })
        emit(isJson(cmd), res, () =>
          [
            kv({ team: res.team, dir: res.dir, threshold: `${res.threshold} of ${res.shareFiles.length}` }),
            'give each share file to a different keeper, then delete it here:',
            ...res.shareFiles.map((f) => `  ${f}`)
          ].join('\n')
        )
      }
    )

  team
    .command('admit')
    .description('issue a member certificate (signed with the root combined from k shares)')
    .requiredOption('-d, --dir <dir>', 'the team directory')
    .requiredOption('-s, --share <file>', 'a root share file (repeat, at least the threshold)', collect)
    .requiredOption('-a, --agent <id>', "the member's agent id")
    .requiredOption('-r, --roles <roles>', 'its roles (comma-separated or repeated)', collect)
    .option('-m, --member <dataDir>', "the member's data directory on this machine (writes its team files)")
    .option('--peer-id <id>', "the member's peer id (instead of --member)")
    .option('--recipient <age1>', "the member's own age recipient (instead of --member)")
    .option('--valid-days <days>', 'validity in days', count, 365)
    .option('--with-role-keys', "install its roles' identities into the member's keys directory")
    .option('-o, --out <file>', 'also write the certificate to this file')
    .action(
      async (
        opts: {
          dir: string
          share: string[]
          agent: string
          roles: string[]
          member?: string
          peerId?: string
          recipient?: string
          validDays: number
          withRoleKeys?: boolean
          out?: string
        },
        cmd: Command
      ) => {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(opts.agent)) {
          throw new CliError('an agent id is letters, digits, _ or - (1-64)', EXIT.USAGE)
        }
        const { admitMember } = await import('../team/admin.js')
        const res = await admitMember({
          dir: opts.dir,
          shares: opts.share,
          agent: opts.agent,
          roles: opts.roles,
          validDays: opts.validDays,
          withRoleKeys: opts.withRoleKeys === true,
          ...(opts.member !== undefined ? { member: opts.member } : {}),
          ...(opts.peerId !== undefined ? { peerId: opts.peerId } : {}),
          ...(opts.recipient !== undefined ? { recipient: opts.recipient } : {})
        })
        if (opts.out !== undefined) writeFileSync(opts.out, res.certificate, { mode: 0o644 })
        const { certificate, ...shown } = res
        emit(isJson(cmd), { ...shown, certificate: Buffer.from(certificate).toString('base64url') }, () =>
          kv(shown as unknown as Record<string, unknown>)
        )
      }
    )

  team
    .command('show')
    .description('the team of a team directory or data directory: id, manifest version, roles')
    .requiredOption('-d, --dir <dir>', 'a team directory (or an agent data directory’s team/)')
    .action(async (opts: { dir: string }, cmd: Command) => {
      const { showTeam } = await import('../team/admin.js')
      const res = showTeam(opts.dir)
      emit(isJson(cmd), res)
    })
}
