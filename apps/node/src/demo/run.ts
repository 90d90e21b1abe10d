import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pause } from '@chorus/common'
import { admitMember, initTeam } from '../team/admin.js'
import { type AgentProcess, dialAddress, startAgentProcess, stopLiveAgents } from './agents.js'
import { type AttackContext, nonMemberWrite, readOnlyMemberWrite } from './attacks.js'
import { newContentAfterRevocation, revokeAndRotate, revokedMemberWrites } from './revocation.js'

export interface DemoOptions {
  /** Where progress lines go (the CLI passes console.log). */
  print: (line: string) => void
  /** Keep the temporary directory (logs, data) instead of removing it. */
  keep?: boolean
  /** Print the final summary as JSON. */
  json?: boolean
}

const ROLES = [
  'senior_architect',
  'backend_developer',
  'devops_engineer',
  'frontend_developer',
  'qa_engineer'
] as const
type Role = (typeof ROLES)[number]
/** The agent id each member's certificate names; agent001 writes the seed's example address. */
const AGENT_IDS: Record<Role, string> = {
  senior_architect: 'architect01',
  backend_developer: 'agent001',
  devops_engineer: 'devops01',
  frontend_developer: 'frontend01',
  qa_engineer: 'qa01'
}
const ADDRESS = 'ucxl://agent001:backend_developer@project123:task456/*^/decision'
const AFTER_REVOCATION = 'ucxl://agent001:backend_developer@project123:task456/*^/after-revocation'
const REVOKED_WRITE = 'ucxl://devops01:devops_engineer@project123:task456/*^/decision'

interface Step {
  name: string
  ok: boolean
  ms: number
  detail: string
}

class StepFailed extends Error {}

/**
 * The main job: a real team (root key split into 3-of-5 Shamir shares, one age key per role,
 * manifest v1) and 5 members admitted, each certificate signed with 3 of the shares; 5 agents as
 * separate processes on 127.0.0.1, each with its own role and data directory; a decision stored as
 * backend_developer, read by senior_architect and devops_engineer, refused to frontend_developer;
 * a non-member's forged write and a read-only member's write refused by every agent; replication
 * reaching healthy; the writer stopped and the decision still read from another agent; then the
 * writer back, and devops01 revoked (revocation list, its role's key rotated): its writes refused
 * everywhere, new content not opening for it, the others reading everything. Resolves to true when
 * every step passed.
 */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const t0 = Date.now()
  const { print } = options
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`
  const steps: Step[] = []
  const agents = new Map<Role, AgentProcess>()
  const root = mkdtempSync(join(tmpdir(), 'chorus-demo-'))
  const teamDir = join(root, 'team-admin')
  // Ctrl-C: the agents (same process group) get it too and shut down; we wait for them and clean up.
  const onInterrupt = () => {
    print(`${stamp()} interrupted: stopping the agents`)
    void stopLiveAgents().finally(() => {
      if (!options.keep) rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
      process.exit(130)
    })
  }
  process.once('SIGINT', onInterrupt)
  process.once('SIGTERM', onInterrupt)

  async function step(name: string, fn: () => Promise<string>): Promise<void> {
    const s = Date.now()
    if (!options.json) print(`${stamp()} … ${name}`)
    try {
      const detail = await fn()
      steps.push({ name, ok: true, ms: Date.now() - s, detail })
      if (!options.json) print(`${stamp()} ✓ ${name}${detail ? `: ${detail}` : ''}`)
    } catch (err) {
      const detail = (err as Error).message
      steps.push({ name, ok: false, ms: Date.now() - s, detail })
      if (!options.json) print(`${stamp()} ✗ ${name}: ${detail}`)
      throw new StepFailed(detail)
    }
  }

  const agent = (role: Role): AgentProcess => {
    const a = agents.get(role)
    if (a === undefined) throw new Error(`agent ${role} is not running`)
    return a
  }

  const decision = {
    task: 'task456',
    decision: 'Use PostgreSQL with logical replication for the order service',
    rationale: 'Strong consistency for orders; replication covers the read load',
    alternatives: [
      { option: 'MongoDB', reasonRejected: 'no multi-document transactions we rely on' },
      { option: 'CockroachDB', reasonRejected: 'more to operate than the team can take on' }
    ],
    author: { agent: 'agent001', role: 'backend_developer' },
    timestamp: new Date().toISOString()
  }
  const content = JSON.stringify(decision)

  let ok = false
  try {
    if (!options.json) print(`${stamp()} CHORUS demo: 5 agents on 127.0.0.1, data in ${root}`)

    let shareFiles: string[] = []
    await step(
      'make the team: root key split into 3-of-5 Shamir shares, one age key per role, manifest v1',
      async () => {
        const made = await initTeam({ dir: teamDir, shares: 5, threshold: 3 })
        shareFiles = made.shareFiles
        return `team ${made.team.slice(0, 12)}…, ${made.roles.length} roles, ${made.shareFiles.length} shares (any 3 sign)`
      }
    )

    await step(
      'admit five members (each certificate signed with 3 of the 5 shares, combined in memory)',
      async () => {
        const admitted: string[] = []
        for (const [i, role] of ROLES.entries()) {
          // a different 3 of the 5 keepers each time
          const shares = [0, 1, 2].map((j) => shareFiles[(i + j) % shareFiles.length] as string)
          const res = await admitMember({
            dir: teamDir,
            shares,
            agent: AGENT_IDS[role],
            roles: [role],
            member: join(root, role),
            withRoleKeys: true
          })
          admitted.push(`${res.agent} (${role}, serial ${res.serial})`)
        }
        return admitted.join(', ')
      }
    )

    const envFor = (role: Role, bootstrap: string[]): Record<string, string> => ({
      CHORUS_ROLE: role,
      CHORUS_AGENT_ID: AGENT_IDS[role],
      CHORUS_BOOTSTRAP_PEERS: bootstrap.join(','),
      CHORUS_JOIN_STAGGER_MS: '300',
      CHORUS_LOG_LEVEL: 'info',
      CHORUS_REPLICATION_REPLICATION_FACTOR: '3',
      CHORUS_REPLICATION_REPAIR_INTERVAL: '1500',
      CHORUS_HYBRID_PROBE_INTERVAL: '1000',
      CHORUS_DHT_DISCOVERY_INTERVAL: '2000',
      CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '1000',
      CHORUS_STORAGE_STORE_TIMEOUT: '15000',
      CHORUS_SHUTDOWN_TIMEOUT_MS: '10000'
    })

    await step('start 5 agents, each its own process, role and data directory', async () => {
      // All at once (module loading dominates start-up); they join through the runtime assignment
      // below, the way an orchestrator hands bootstrap peers to running agents.
      const started = await Promise.all(
        ROLES.map((role) =>
          startAgentProcess({ name: role, dataDir: join(root, role), env: envFor(role, []) })
        )
      )
      for (const [i, role] of ROLES.entries()) agents.set(role, started[i]!)
      return ROLES.map((r) => `${r} pid ${agent(r).child.pid}`).join(', ')
    })

    await step('assign senior_architect as bootstrap peer (assignment file + SIGHUP)', async () => {
      const boot = dialAddress(agent('senior_architect').info)
      for (const role of ROLES.filter((r) => r !== 'senior_architect')) {
        const a = agent(role)
        writeFileSync(join(a.dataDir, 'assignment.yaml'), `bootstrapPeers:\n  - ${boot}\n`)
        a.child.kill('SIGHUP')
      }
      return boot
    })

    await step('wait for the agents to find each other', async () => {
      // seconds on an idle machine; a loaded one (CI beside other jobs) takes longer
      const deadline = Date.now() + 60_000
      let counts: number[] = []
      for (;;) {
        // connected and in the Kademlia routing table (identify done), so puts reach them
        counts = await Promise.all(
          ROLES.map(async (r) => {
            const n = (
              await agent(r).api<{ network: { connectedPeers: number; dht: { routingTableSize?: number } } }>(
                'GET',
                '/v1/status'
              )
            ).body.network
            return Math.min(n.connectedPeers, n.dht.routingTableSize ?? 0)
          })
        )
        if (counts.every((c) => c >= ROLES.length - 1)) break
        if (Date.now() > deadline) {
          if (counts.every((c) => c >= 2)) break
          throw new Error(`peer counts ${counts.join(', ')}`)
        }
        await pause(300)
      }
      return `peers per agent: ${ROLES.map((r, i) => `${r}=${counts[i]}`).join(' ')}`
    })

    let version: unknown
    await step('store a decision as backend_developer', async () => {
      const res = await agent('backend_developer').api<{
        metadata: Record<string, unknown>
        error?: { code: string; message: string }
      }>('POST', '/v1/content', { address: ADDRESS, content, contentType: 'decision' })
      if (res.status !== 201) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.body)}`)
      const m = res.body.metadata
      version = m.version
      return `${ADDRESS} v${String(m.version ?? '?')}, encrypted for ${JSON.stringify(m.encryptedFor ?? m.roles ?? '?')}, ${acks(m)} peer ack(s)`
    })

    for (const role of ['senior_architect', 'devops_engineer'] as const) {
      await step(`read it as ${role}`, async () => {
        const res = await agent(role).api<{ content: string; metadata: Record<string, unknown> }>(
          'GET',
          `/v1/content?address=${encodeURIComponent(ADDRESS)}`
        )
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.body)}`)
        if (res.body.content !== content) throw new Error('content differs from what was stored')
        return `decrypted ${res.body.content.length} bytes: "${decision.decision}"`
      })
    }

    await step('frontend_developer is refused', async () => {
      const res = await agent('frontend_developer').api<{ error?: { code: string }; content?: string }>(
        'GET',
        `/v1/content?address=${encodeURIComponent(ADDRESS)}`
      )
      if (res.status !== 403)
        throw new Error(`expected 403, got HTTP ${res.status} ${JSON.stringify(res.body)}`)
      if (res.body.content !== undefined) throw new Error('plaintext was returned')
      return `HTTP 403 ${res.body.error?.code}`
    })

    const attack = (): AttackContext => ({
      root,
      teamDir,
      shareFiles,
      agents: [...agents.values()],
      address: ADDRESS,
      content,
      readers: [agent('senior_architect'), agent('devops_engineer')]
    })
    await step("a non-member's write is refused by the network", () => nonMemberWrite(attack()))
    await step("a read_only member's write is refused by the network", () => readOnlyMemberWrite(attack()))

    await step('replication health reaches healthy', async () => {
      const deadline = Date.now() + 45_000
      let last: Record<string, unknown> = {}
      for (;;) {
        const res = await agent('backend_developer').api<Record<string, unknown>>(
          'GET',
          `/v1/replication?address=${encodeURIComponent(ADDRESS)}`
        )
        last = res.body
        if (res.status === 200 && last.health === 'healthy') break
        if (Date.now() > deadline)
          throw new Error(`still ${String(last.health)}: ${JSON.stringify(last).slice(0, 300)}`)
        await pause(500)
      }
      return `healthy: ${String(last.actualReplicas)}/${String(last.targetReplicas)} live holders`
    })

    await step("stop the writer's process (backend_developer)", async () => {
      const code = await agent('backend_developer').stop()
      agents.delete('backend_developer')
      return `exited with ${String(code)}`
    })

    await step('read the decision from another agent (devops_engineer, cache bypassed)', async () => {
      const res = await agent('devops_engineer').api<{ content: string; metadata: Record<string, unknown> }>(
        'GET',
        `/v1/content?address=${encodeURIComponent(ADDRESS)}&fresh=true`
      )
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.body)}`)
      if (res.body.content !== content) throw new Error('content differs from what was stored')
      return `v${String(res.body.metadata.version ?? version ?? '?')} read with the writer gone (source: ${String(res.body.metadata.source ?? '?')})`
    })

    await step('start backend_developer again (same data directory)', async () => {
      const boot = dialAddress(agent('senior_architect').info)
      const a = await startAgentProcess({
        name: 'backend_developer',
        dataDir: join(root, 'backend_developer'),
        env: envFor('backend_developer', [boot])
      })
      agents.set('backend_developer', a)
      const deadline = Date.now() + 30_000
      let peers = 0
      while (Date.now() < deadline) {
        peers = (await a.api<{ network: { connectedPeers: number } }>('GET', '/v1/status')).body.network
          .connectedPeers
        if (peers >= ROLES.length - 1) break
        await pause(300)
      }
      return `pid ${a.child.pid}, ${peers} peers`
    })

    const revoked = (): AgentProcess => agent('devops_engineer')
    const remaining = (): AttackContext => ({
      ...attack(),
      agents: ROLES.filter((r) => r !== 'devops_engineer').map(agent),
      readers: [agent('senior_architect')]
    })
    await step(
      'revoke devops01 (3 other shares): revocation list, its role key rotated, published through one agent',
      () =>
        revokeAndRotate(
          { ...attack(), agents: [...agents.values()] },
          'devops01',
          revoked(),
          agent('senior_architect')
        )
    )
    await step("the revoked member's writes are refused everywhere", () =>
      revokedMemberWrites(remaining(), revoked(), REVOKED_WRITE, 'devops_engineer')
    )
    await step('content written after the revocation does not open for it; the others read everything', () =>
      newContentAfterRevocation(
        remaining(),
        agent('backend_developer'),
        revoked(),
        [agent('senior_architect')],
        AFTER_REVOCATION,
        ADDRESS,
        content
      )
    )
    ok = true
  } catch (err) {
    if (!(err instanceof StepFailed)) {
      steps.push({ name: 'demo', ok: false, ms: 0, detail: (err as Error).message })
      if (!options.json) print(`${stamp()} ✗ ${(err as Error).message}`)
    }
  } finally {
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onInterrupt)
    if (!options.json) print(`${stamp()} stopping ${agents.size} agent(s)`)
    await stopLiveAgents()
    if (options.keep) {
      if (!options.json) print(`${stamp()} kept ${root}`)
    } else rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
  }

  const seconds = (Date.now() - t0) / 1000
  if (options.json)
    print(JSON.stringify({ ok, seconds, steps, ...(options.keep ? { dataDir: root } : {}) }, null, 2))
  else {
    print('')
    print(
      `Summary: ${steps.filter((s) => s.ok).length}/${steps.length} steps passed in ${seconds.toFixed(1)} s`
    )
    for (const s of steps) print(`  ${s.ok ? '✓' : '✗'} ${s.name} (${s.ms} ms)`)
    print(ok ? 'DEMO OK' : 'DEMO FAILED')
  }
  return ok
}

function acks(m: Record<string, unknown>): string {
  const a = m.acks ?? m.acknowledgements ?? m.peers
  return Array.isArray(a) ? String(a.length) : typeof a === 'number' ? String(a) : '?'
}
