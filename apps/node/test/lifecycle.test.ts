import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type AgentProcess,
  dialAddress,
  fastEnv,
  makeTeam,
  runCli,
  startAgentProcess,
  stopAllAgents,
  waitFor
} from './helpers.js'

const roots: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'chorus-node-life-'))
  roots.push(d)
  return d
}
afterAll(async () => {
  await stopAllAgents()
  for (const d of roots) rmSync(d, { recursive: true, force: true })
}, 60_000)

describe('start-up configuration', () => {
  it('a bad value exits 2 with a clear message', async () => {
    const r = await runCli(['start', '--api-port', 'abc', '--data-dir', join(tempDir(), 'd')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/invalid configuration/)
    expect(r.stderr).toMatch(/api\.port \(flag --api-port\): expected a whole number, got "abc"/)
  })

  it('an unknown key in the config file exits 2 naming the key', async () => {
    const dir = tempDir()
    const file = join(dir, 'chorus.yaml')
    writeFileSync(file, 'role: backend_developer\nreplication:\n  factr: 3\n')
    const r = await runCli(['start', '--config', file], { CHORUS_DATA_DIR: join(dir, 'd') })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown setting replication\.factr/)
  })

  it('a bad multiaddr in the environment exits 2', async () => {
    const r = await runCli(['start'], {
      CHORUS_BOOTSTRAP_PEERS: '/ip4/127.0.0.1/tcp/notaport',
      CHORUS_DATA_DIR: join(tempDir(), 'd')
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/bootstrapPeers item 0 \(env CHORUS_BOOTSTRAP_PEERS\)/)
  })

  it('an unknown role exits 2', async () => {
    const r = await runCli(['start', '--role', 'astronaut'], { CHORUS_DATA_DIR: join(tempDir(), 'd') })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/astronaut/)
  })
})

describe('embedded defaults, SIGTERM and restart', () => {
  let agent: AgentProcess | undefined
  afterAll(async () => {
    await agent?.stop()
  })

  it('SIGTERM during a stream of writes loses no acknowledged write; a restart serves all of them', async () => {
    const root = tempDir()
    const dataDir = join(root, 'agent')
    // nothing configured but the data directory and the agent id: loopback, generated keys, a
    // team of its own (team.embedded), no peers
    agent = await startAgentProcess({
      name: 'solo',
      dataDir,
      env: fastEnv({ CHORUS_LOG_LEVEL: 'info', CHORUS_AGENT_ID: 'agent001' })
    })
    const a = agent
    expect(statSync(join(dataDir, 'api-token')).mode & 0o777).toBe(0o600)

    const acknowledged = new Map<string, string>()
    let stop = false
    let refused = 0
    const writerLoop = async (w: number) => {
      for (let i = 0; !stop && i < 10_000; i++) {
        const address = `ucxl://agent001:backend_developer@project123:task${w}/*^/item-${i}`
        const content = `write ${w}-${i} ${'.'.repeat(i % 50)}`
        try {
          const res = await a.api('POST', '/v1/content', { address, content })
          if (res.status === 201) acknowledged.set(address, content)
          else refused++
        } catch {
          // connection refused or reset: the agent is going away; not acknowledged
          refused++
          if (a.child.exitCode !== null) return
        }
      }
    }
    const writers = [0, 1, 2, 3].map((w) => writerLoop(w))
    // let writes flow, then SIGTERM in the middle of the stream
    const deadline = Date.now() + 30_000
    while (acknowledged.size < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(acknowledged.size).toBeGreaterThanOrEqual(30)
    a.child.kill('SIGTERM')
    const code = await a.exited
    stop = true
    await Promise.all(writers)
    expect(code).toBe(0)
    const log = readFileSync(a.logFile, 'utf8')
    expect(log).toMatch(/shutting down/)
    expect(log).not.toMatch(/AGE-SECRET-KEY/)

    // restart on the same data directory: same peer id, every acknowledged write readable
    agent = await startAgentProcess({ name: 'solo-restarted', dataDir, env: fastEnv() })
    const b = agent
    expect(b.info.peerId).toBe(a.info.peerId)
    let missing = 0
    for (const [address, content] of acknowledged) {
      const res = await b.api<{ content: string }>(
        'GET',
        `/v1/content?address=${encodeURIComponent(address)}`
      )
      if (res.status !== 200 || res.body.content !== content) missing++
    }
    expect(missing, `${missing} of ${acknowledged.size} acknowledged writes lost (${refused} refused)`).toBe(
      0
    )
  }, 180_000)
})

describe('SIGHUP', () => {
  it('re-reads the assignment file and joins the assigned bootstrap peers without a restart', async () => {
    // two members of one team (agents of two embedded teams would refuse each other's admission)
    const team = await makeTeam(['backend_developer', 'senior_architect'], ['a', 'b'])
    const root = team.root
    const first = await startAgentProcess({
      name: 'first',
      dataDir: team.dataDir('a'),
      env: fastEnv({ CHORUS_ROLE: 'backend_developer' })
    })
    const second = await startAgentProcess({
      name: 'second',
      dataDir: team.dataDir('b'),
      env: fastEnv({ CHORUS_ROLE: 'senior_architect', CHORUS_JOIN_STAGGER_MS: '3000' })
    })
    try {
      type Status = {
        network: {
          connectedPeers: number
          bootstrapSource: string
          lastJoin: { delayMs: number; at: number } | null
        }
      }
      expect((await second.api<Status>('GET', '/v1/status')).body.network.connectedPeers).toBe(0)
      writeFileSync(join(root, 'b', 'assignment.yaml'), `bootstrapPeers:\n  - ${dialAddress(first.info)}\n`)
      const hupAt = Date.now()
      second.child.kill('SIGHUP')
      const joined = await waitFor(async () => {
        const s = (await second.api<Status>('GET', '/v1/status')).body.network
        return s.bootstrapSource === 'assignment' && s.connectedPeers >= 1
      }, 30_000)
      expect(joined).toBe(true)
      // the peers handed over by SIGHUP were dialled after the agent's own random stagger
      const { lastJoin } = (await second.api<Status>('GET', '/v1/status')).body.network
      expect(lastJoin).not.toBeNull()
      expect(lastJoin!.delayMs).toBeLessThanOrEqual(3000)
      expect(lastJoin!.at).toBeGreaterThanOrEqual(hupAt + lastJoin!.delayMs)
      expect(second.child.exitCode).toBeNull()
      expect(second.info.peerId).not.toBe(first.info.peerId)
    } finally {
      await Promise.all([first.stop(), second.stop()])
      team.cleanup()
    }
  }, 180_000)
})
