/**
 * The demo's two attacks on the team, each run by an in-process intruder (`intruder.ts`) that
 * signs whatever it likes: a non-member forging the next version of a member's decision, and a
 * read-only member writing a record of its own. Each resolves with the step's detail line, or
 * throws when an agent took what it sent.
 */
import { join } from 'node:path'
import { pause } from '@chorus/common'
import { createTeamPolicy, parseTeamId } from '@chorus/team'
import { admitMember, initTeam } from '../team/admin.js'
import { readTeamFile } from '../team/files.js'
import { type AgentProcess, dialAddress } from './agents.js'
import { type Intruder, startIntruder } from './intruder.js'

export interface AttackContext {
  /** The demo's temporary directory. */
  root: string
  /** The team directory (`team init`) and its share files. */
  teamDir: string
  shareFiles: string[]
  /** The running agents; the first is dialled. */
  agents: AgentProcess[]
  /** The decision's address and content, which must read unchanged. */
  address: string
  content: string
  /** Agents that may read the decision. */
  readers: AgentProcess[]
}

/** Runs an intruder with its data directory and certificate, dialling the first agent (if any). */
export async function withIntruder<T>(
  ctx: AttackContext,
  dataDir: string,
  certificate: Uint8Array,
  fn: (intruder: Intruder) => Promise<T>,
  options: { member?: boolean } = {}
): Promise<T> {
  const file = readTeamFile(ctx.teamDir)
  if (file === undefined) throw new Error('no team file')
  // what anyone who saw the team's manifest knows: its roles and public recipients
  const policy = createTeamPolicy({ root: parseTeamId(file.team), manifest: file.manifest })
  const first = ctx.agents[0]
  const intruder = await startIntruder({
    dataDir: join(dataDir, 'libp2p'),
    certificate,
    roles: policy.roleRegistry(),
    recipients: (role) => policy.recipients(role),
    bootstrapPeers: first === undefined ? [] : [dialAddress(first.info)]
  })
  try {
    if (first !== undefined) {
      // a member: what it sends must be refused by the team's rules, not for want of admission
      if (options.member === true) await untilAdmitted(ctx, intruder.peerId)
      // an outsider: give the agents a moment to decide on its admission
      else await pause(1_500)
    }
    return await fn(intruder)
  } finally {
    await intruder.close()
  }
}

/**
 * Runs an admitted member (`relay01`) that relays whatever it is given, with no rules of its
 * own: what the agents refuse from it, the team's rules refuse, not its admission.
 */
export async function withRelay<T>(ctx: AttackContext, fn: (relay: Intruder) => Promise<T>): Promise<T> {
  const dir = join(ctx.root, 'relay')
  const member = await admitMember({
    dir: ctx.teamDir,
    shares: ctx.shareFiles.slice(0, 3),
    agent: 'relay01',
    roles: ['backend_developer'],
    member: dir
  })
  return withIntruder(ctx, dir, member.certificate, fn, { member: true })
}

/** Waits until an agent lists the peer among its admitted peers (a loaded machine takes a while). */
async function untilAdmitted(ctx: AttackContext, peerId: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while ((await listedBy(ctx, peerId)) === 0) {
    if (Date.now() > deadline) throw new Error('no agent admitted the member within 30 s')
    await pause(300)
  }
}

/** How many agents list the peer among their (admitted) connected peers. */
async function listedBy(ctx: AttackContext, peerId: string): Promise<number> {
  const lists = await Promise.all(
    ctx.agents.map((a) => a.api<{ peers?: Array<{ id: string }> }>('GET', '/v1/peers'))
  )
  return lists.filter((l) => (l.body.peers ?? []).some((p) => p.id === peerId)).length
}

/** An outsider with a certificate of a team of its own forges the decision's next version. */
export async function nonMemberWrite(ctx: AttackContext): Promise<string> {
  const otherDir = join(ctx.root, 'outsider-team')
  const other = await initTeam({ dir: otherDir, shares: 2, threshold: 2 })
  const { certificate } = await admitMember({
    dir: otherDir,
    shares: other.shareFiles,
    agent: 'agent001',
    roles: ['backend_developer'],
    member: join(ctx.root, 'outsider')
  })
  const res = await withIntruder(ctx, join(ctx.root, 'outsider'), certificate, async (intruder) => {
    const forged = await intruder.forge({
      address: ctx.address,
      creatorRole: 'backend_developer',
      content: 'FORGED by an outsider',
      version: 2,
      timestamp: Date.now() - 86_400_000
    })
    const acks = (await intruder.put(forged.head.key, forged.head.value))?.acks.length ?? 0
    return { acks, admittedBy: await listedBy(ctx, intruder.peerId) }
  })
  if (res.acks !== 0) throw new Error(`${res.acks} agent(s) acknowledged the outsider's record`)
  if (res.admittedBy !== 0) throw new Error(`${res.admittedBy} agent(s) admitted the outsider`)
  for (const reader of ctx.readers) {
    const read = await reader.api<{ content: string }>(
      'GET',
      `/v1/content?address=${encodeURIComponent(ctx.address)}&fresh=true`
    )
    if (read.status !== 200 || read.body.content !== ctx.content) {
      throw new Error(`${reader.name} no longer reads the decision: HTTP ${read.status}`)
    }
  }
  return `not admitted by any agent, its record acknowledged by ${res.acks} of ${ctx.agents.length}; the decision reads unchanged`
}

/** A read-only member (admitted) skips its own store policy and signs a record anyway. */
export async function readOnlyMemberWrite(ctx: AttackContext): Promise<string> {
  const member = await admitMember({
    dir: ctx.teamDir,
    shares: ctx.shareFiles.slice(2, 5),
    agent: 'observer01',
    roles: ['observer'],
    member: join(ctx.root, 'observer')
  })
  const address = 'ucxl://observer01:observer@project123:task456/*^/note'
  const acks = await withIntruder(
    ctx,
    join(ctx.root, 'observer'),
    member.certificate,
    async (intruder) => {
      const forged = await intruder.forge({ address, creatorRole: 'observer', content: 'an observer writes' })
      const a = (await intruder.put(forged.version.key, forged.version.value))?.acks.length ?? 0
      const b = (await intruder.put(forged.head.key, forged.head.value))?.acks.length ?? 0
      return a + b
    },
    { member: true }
  )
  if (acks !== 0) throw new Error(`${acks} acknowledgement(s) of the observer's record`)
  const found = await Promise.all(
    ctx.agents.map(
      async (a) => (await a.api('GET', `/v1/content?address=${encodeURIComponent(address)}`)).status
    )
  )
  if (found.some((status) => status !== 404)) throw new Error(`answers: ${found.join(', ')}`)
  return `admitted as observer01 (read_only); its record acknowledged by 0 agents, found by none (HTTP ${found[0]} at all ${ctx.agents.length})`
}
