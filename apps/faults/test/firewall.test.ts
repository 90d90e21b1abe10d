import { execFileSync, spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLoopbackFirewall, iptablesAvailable, type LoopbackFirewall } from '../src/index.js'
import { freePort } from '../src/loopback/agents.js'

// The loopback firewall on real iptables: a client process with its own group id talks to an
// echo server on 127.0.0.1; a partition or a 100 % loss of its node stops the echoes on the
// established connection, and healing brings them back. Skipped without iptables or root.
const available = await iptablesAvailable()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const GID = 45_000 + (process.pid % 500) * 2

// as root (CI) a missing iptables is a failure, not a skip
it.runIf(process.getuid?.() === 0 && !available)('iptables is available (root)', () => {
  expect(available).toBe(true)
})

describe.runIf(available)('loopback firewall (iptables on lo)', () => {
  let server: Server
  let firewall: LoopbackFirewall
  let child: ReturnType<typeof spawn>
  let echoes = 0
  const name = `CHFT${process.pid % 100_000}`

  beforeAll(async () => {
    const port = await freePort()
    // the rule under test may reset the connection: the echo side must not die of it
    server = createServer((s) => s.on('data', (d) => s.write(d)).on('error', () => {}))
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
    firewall = await createLoopbackFirewall(name, [
      { gid: GID, port: await freePort() },
      { gid: GID + 1, port }
    ])
    const script = `const s = require('node:net').connect(${port}, '127.0.0.1', () => setInterval(() => s.write('x'), 50));
      s.on('data', (d) => process.stdout.write(String(d.length) + '\\n')); s.on('error', () => process.exit(1))`
    child = spawn(process.execPath, ['-e', script], { gid: GID, stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout!.on('data', (d: Buffer) => {
      echoes += String(d).trim().split('\n').length
    })
  })

  afterAll(async () => {
    child?.kill('SIGKILL')
    server?.close()
    await firewall?.close()
  })

  /** Echoes received during `ms`. */
  const during = async (ms: number) => {
    const before = echoes
    await sleep(ms)
    return echoes - before
  }

  it('passes traffic, cuts it on a partition, and heals', async () => {
    // the client process starts slowly on a loaded machine
    for (let i = 0; i < 150 && echoes === 0; i++) await sleep(100)
    expect(await during(600), 'echoes before any fault').toBeGreaterThan(3)
    await firewall.partition([0], [1])
    await sleep(200)
    expect(await during(800), 'echoes across the partition').toBe(0)
    await firewall.heal()
    // TCP retransmits what was held back (its first retry after about 200 ms, then backing off)
    expect(await during(4_000), 'echoes after healing').toBeGreaterThan(3)
  }, 40_000)

  it('drops every packet of a node at loss 1, none at loss 0', async () => {
    await firewall.setLoss(0, 1)
    await sleep(200)
    expect(await during(800)).toBe(0)
    await firewall.setLoss(0, 0)
    expect(await during(4_000)).toBeGreaterThan(3)
  }, 20_000)

  it('removes its chains on close', async () => {
    await firewall.close()
    expect(execFileSync('iptables', ['-w', '-S']).toString()).not.toContain(name)
  })
})
