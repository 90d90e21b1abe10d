import { readFileSync, rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { AGENT_NODE_FLAGS, missingNodeFlags } from '../src/agent/node-flags.js'
import { fastEnv, makeTeam, startAgentProcess, stopAllAgents } from './helpers.js'

const roots: string[] = []
afterAll(async () => {
  await stopAllAgents()
  for (const r of roots) rmSync(r, { recursive: true, force: true })
}, 60_000)

/** The command line a process runs with now (after any execve), argument by argument. */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')

describe('the Node.js flags of an agent process', () => {
  it('names only the flags neither the command line nor NODE_OPTIONS gives, by name', () => {
    const wanted = ['--max-semi-space-size=16', '--stack-size=900']
    expect(missingNodeFlags(wanted, [], undefined)).toEqual(wanted)
    expect(missingNodeFlags(wanted, ['--max-semi-space-size=8'], undefined)).toEqual(['--stack-size=900'])
    expect(missingNodeFlags(wanted, [], ' --max_semi_space_size=4  --stack-size=1')).toEqual([])
    expect(missingNodeFlags(wanted, ['--enable-source-maps'], '--max-old-space-size=100')).toEqual(wanted)
  })

  it.runIf(process.platform === 'linux')(
    '`chorus-node start` runs with them in the same process, and a value the user chose is kept',
    async () => {
      const team = await makeTeam(['backend_developer', 'senior_architect'])
      roots.push(team.root)
      const [plain, chosen] = await Promise.all([
        startAgentProcess({
          name: 'plain',
          dataDir: team.dataDir('backend_developer'),
          env: fastEnv({ CHORUS_ROLE: 'backend_developer', NODE_OPTIONS: '' })
        }),
        startAgentProcess({
          name: 'chosen',
          dataDir: team.dataDir('senior_architect'),
          env: fastEnv({ CHORUS_ROLE: 'senior_architect', NODE_OPTIONS: '--max-semi-space-size=4' })
        })
      ])
      // the helper waited for agent.json to carry the pid it spawned: the flags came by execve
      expect(plain.info.pid).toBe(plain.child.pid)
      const args = commandLine(plain.child.pid!)
      for (const flag of AGENT_NODE_FLAGS) expect(args).toContain(flag)
      expect(args.indexOf(AGENT_NODE_FLAGS[0]!)).toBeLessThan(args.indexOf('start'))
      const chosenArgs = commandLine(chosen.child.pid!)
      expect(chosenArgs.filter((a) => a.includes('semi-space'))).toEqual([])
      for (const flag of AGENT_NODE_FLAGS.filter((f) => !f.includes('semi-space')))
        expect(chosenArgs).toContain(flag)
      // still the agent it was: answers, and stops on SIGTERM with exit code 0
      expect((await plain.api('GET', '/v1/status')).status).toBe(200)
      expect(await plain.stop()).toBe(0)
    },
    120_000
  )
})
