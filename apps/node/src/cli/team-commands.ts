/**
 * `chorus-node team init | admit | show | grant | revoke | rotate | publish`: the team's root of
 * trust and its key lifecycle, offline from a team directory; `publish` (or `--publish`) hands the
 * signed records to the running agent of `--data-dir` / `--agent-url`.
 */
import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { LifecycleResult, TeamRecord } from '../team/lifecycle.js'
import { createClient } from './client.js'
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

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** A duration: `90s`, `10m`, `2h`, `7d`, or milliseconds. */
function duration(value: string): number {
  const m = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(value.trim())
  if (m === null)
    throw new CliError(`expected a duration such as 30m, 2h or 7d, got ${JSON.stringify(value)}`, EXIT.USAGE)
  return Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1)
}

function agentId(value: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value))
    throw new CliError('an agent id is letters, digits, _ or - (1-64)', EXIT.USAGE)
  return value
}

interface GlobalOpts {
  dataDir?: string
  agentUrl?: string
  token?: string
  timeout?: string
}

/** Hands signed records to the running agent, which checks, takes and puts them on the DHT. */
async function publish(cmd: Command, records: TeamRecord[]): Promise<unknown> {
  const o = cmd.optsWithGlobals<GlobalOpts>()
  const timeoutMs = o.timeout !== undefined ? Number(o.timeout) : undefined
  const client = createClient({
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.agentUrl !== undefined ? { agentUrl: o.agentUrl } : {}),
    ...(o.token !== undefined ? { token: o.token } : {}),
    ...(timeoutMs !== undefined && Number.isFinite(timeoutMs) ? { timeoutMs } : {})
  })
  return client.applyTeamRecords(
    records.map((r) => ({ key: r.key, value: Buffer.from(r.value).toString('base64url') }))
  )
}

/** What a lifecycle command prints: what it did, the records (without their bytes), what the agent said. */
async function report(cmd: Command, res: LifecycleResult, doPublish: boolean): Promise<void> {
  const published = doPublish ? await publish(cmd, res.records) : undefined
  const { records, ...rest } = res
  const shown = {
    ...rest,
    records: records.map((r) => ({ kind: r.kind, key: r.key, version: r.version })),
    ...(published !== undefined ? { published } : {})
  }
  emit(isJson(cmd), shown, () =>
    [
      kv({
        team: res.team,
        manifestVersion: res.manifestVersion,
        ...(res.revocationsVersion !== undefined ? { revocationsVersion: res.revocationsVersion } : {})
      }),
      ...res.rotated.map((r) => `rotated ${r.role}: new key ${r.keyId}`),
      ...res.granted.map((g) => `granted ${g.agent} (v${g.version}): ${g.roles.join(', ')}`),
      doPublish
        ? `published ${records.length} record(s) through the agent`
        : `${records.length} record(s) signed: run \`chorus-node team publish --dir <dir>\` to hand them to a running agent`
    ].join('\n')
  )
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
    .command('grant')
    .description("grant a member a role's keys (encrypted to the member's own key; the agent installs them)")
    .argument('<agent>', "the member's agent id", agentId)
    .argument('<role>', 'the role whose keys it gets (current and retired: old content too)')
    .requiredOption('-d, --dir <dir>', 'the team directory')
    .requiredOption('-s, --share <file>', 'a root share file (repeat, at least the threshold)', collect)
    .option('--publish', 'hand the records to the running agent (--data-dir / --agent-url)')
    .action(
      async (
        agent: string,
        role: string,
        opts: { dir: string; share: string[]; publish?: boolean },
        cmd: Command
      ) => {
        const { grantRole } = await import('../team/lifecycle.js')
        await report(
          cmd,
          await grantRole({ dir: opts.dir, shares: opts.share, agent, role }),
          opts.publish === true
        )
      }
    )

  team
    .command('revoke')
    .description(
      'revoke a member: revocation list, then every role whose keys it held rotated and re-granted'
    )
    .argument('<agent>', "the member's agent id", agentId)
    .requiredOption('-d, --dir <dir>', 'the team directory')
    .requiredOption('-s, --share <file>', 'a root share file (repeat, at least the threshold)', collect)
    .option('--publish', 'hand the records to the running agent (--data-dir / --agent-url)')
    .action(
      async (agent: string, opts: { dir: string; share: string[]; publish?: boolean }, cmd: Command) => {
        const { revokeMember } = await import('../team/lifecycle.js')
        await report(
          cmd,
          await revokeMember({ dir: opts.dir, shares: opts.share, agent }),
          opts.publish === true
        )
      }
    )

  team
    .command('rotate')
    .description(
      "rotate a role's key: a new current key, the old one retired, the new one granted to its holders"
    )
    .argument('<role>', 'the role')
    .requiredOption('-d, --dir <dir>', 'the team directory')
    .requiredOption('-s, --share <file>', 'a root share file (repeat, at least the threshold)', collect)
    .option(
      '--overlap <duration>',
      'how long the old key still receives new content (30m, 2h, 7d)',
      duration,
      0
    )
    .option('--publish', 'hand the records to the running agent (--data-dir / --agent-url)')
    .action(
      async (
        role: string,
        opts: { dir: string; share: string[]; overlap: number; publish?: boolean },
        cmd: Command
      ) => {
        const { rotateRole } = await import('../team/lifecycle.js')
        const res = await rotateRole({ dir: opts.dir, shares: opts.share, role, overlapMs: opts.overlap })
        await report(cmd, res, opts.publish === true)
      }
    )

  team
    .command('publish')
    .description(
      "hand the team directory's latest signed records (manifest, revocations, grants) to the running agent"
    )
    .requiredOption('-d, --dir <dir>', 'the team directory')
    .action(async (opts: { dir: string }, cmd: Command) => {
      const { teamRecords } = await import('../team/lifecycle.js')
      const records = teamRecords(opts.dir)
      const res = await publish(cmd, records)
      emit(isJson(cmd), res)
    })

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
