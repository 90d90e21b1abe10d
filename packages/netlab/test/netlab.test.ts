/**
 * The lab on its own: addresses, routing between sites, the NAT (a NATed node is seen as its
 * router and cannot be dialled from outside), partitions and their healing, random loss, a cut
 * cable, kill -9, and that nothing is left behind. Needs root, `ip` and `iptables`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLab, type Lab, labUnavailableReason } from '../src/index.js'

const why = labUnavailableReason()
if (why !== undefined) console.warn(`skipping the network lab tests: ${why}`)

// a server that answers each connection with the address it came from, and a client that prints it
const SERVER = `require('node:net').createServer(s=>{s.end(s.remoteAddress)}).listen(7001,'0.0.0.0')`
const CLIENT = `const s=require('node:net').connect({host:process.argv[1],port:7001,timeout:1500});let d='';s.on('data',c=>d+=c);s.on('end',()=>{console.log('GOT '+d);process.exit(0)});s.on('timeout',()=>{console.log('TIMEOUT');process.exit(0)});s.on('error',e=>{console.log('ERR '+e.code);process.exit(0)})`

// as root (CI) a missing tool is a failure, not a skip: the lab is what these tests are for
const asRoot = process.getuid?.() === 0
it.runIf(asRoot && why !== undefined)('the lab can run here (root)', () => {
  expect(why).toBeUndefined()
})

describe.skipIf(why !== undefined)('network lab', () => {
  let lab: Lab

  /** Connects from one node to another's server; what the server saw, or why it failed. */
  async function probe(from: string, host: string): Promise<string> {
    const p = lab.spawn(from, { args: ['-e', CLIENT, host], name: `probe-${Date.now()}` })
    await p.exited
    const { readFileSync } = await import('node:fs')
    return readFileSync(p.logFile, 'utf8').trim()
  }

  beforeAll(async () => {
    lab = await createLab()
    await lab.addSite('office')
    await lab.addSite('home', { nat: true })
    await lab.addSite('cloud')
    await lab.addNode('office', 'o1')
    await lab.addNode('office', 'o2')
    await lab.addNode('home', 'h1')
    await lab.addNode('cloud', 'c1')
    for (const n of ['o1', 'h1', 'c1']) lab.spawn(n, { args: ['-e', SERVER], name: 'server' })
    await new Promise((r) => setTimeout(r, 1_000))
  })

  afterAll(async () => {
    const namespaces = lab?.nodes().map((n) => n.ns) ?? []
    await lab?.destroy()
    const left = execFileSync('ip', ['netns', 'list']).toString()
    for (const ns of namespaces) expect(left).not.toContain(ns)
    expect(existsSync(lab.dir)).toBe(false)
  })

  it('routes between sites and names every reachable node', async () => {
    expect(await probe('o2', lab.node('o1').address)).toBe(`GOT ${lab.node('o2').address}`)
    expect(await probe('c1', 'o1.lab')).toBe(`GOT ${lab.node('c1').address}`)
  })

  it('shows a NATed node as its router and keeps it undialable from outside', async () => {
    expect(await probe('h1', lab.node('o1').address)).toBe(`GOT ${lab.sites()[1]?.natAddress}`)
    expect(await probe('o1', lab.node('h1').address)).not.toMatch(/^GOT/)
    expect(lab.reachableAddress('o1', 'h1')).toBeUndefined()
  })

  it('partitions groups of nodes and heals', async () => {
    await lab.partition(['o1'], ['c1', 'h1'])
    expect(await probe('c1', lab.node('o1').address)).not.toMatch(/^GOT/)
    expect(await probe('h1', lab.node('o1').address)).not.toMatch(/^GOT/)
    expect(await probe('o2', lab.node('o1').address)).toMatch(/^GOT/)
    await lab.heal()
    expect(await probe('c1', lab.node('o1').address)).toMatch(/^GOT/)
  })

  it('drops packets at random with the given probability, and cuts a cable', async () => {
    await lab.setLoss('c1', 1, { to: 'o1' })
    expect(await probe('c1', lab.node('o1').address)).not.toMatch(/^GOT/)
    expect(await probe('c1', lab.node('o2').address)).not.toMatch(/^GOT/) // o2 runs no server: refused, not lost
    await lab.setLoss('c1', 0, { to: 'o1' })
    await lab.setLoss('c1', 0.02)
    const rules = execFileSync('ip', [
      'netns',
      'exec',
      lab.node('c1').ns,
      'iptables',
      '-S',
      'NETLAB-LOSS'
    ]).toString()
    expect(rules).toContain('--probability 0.02')
    expect(await probe('c1', lab.node('o1').address)).toMatch(/^GOT/)
    await lab.setLoss('c1', 0)
    await lab.disconnect('o1')
    expect(await probe('o2', lab.node('o1').address)).not.toMatch(/^GOT/)
    await lab.reconnect('o1')
    expect(await probe('o2', lab.node('o1').address)).toMatch(/^GOT/)
  })

  it('kills a process with kill -9 and reaches a loopback port through the forwarder', async () => {
    const http = lab.spawn('o2', {
      args: ['-e', `require('node:http').createServer((q,s)=>s.end('hi '+q.url)).listen(7002,'127.0.0.1')`],
      name: 'http'
    })
    await new Promise((r) => setTimeout(r, 500))
    const res = await lab.request('o2', 7002, { method: 'GET', path: '/x' })
    expect(res).toEqual({ status: 200, body: 'hi /x' })
    await http.kill9()
    expect(await http.exited).toBe('SIGKILL')
  })
})
