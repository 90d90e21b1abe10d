// ad-hoc harness: 5 agents, N HTTP stores (16 in flight), CPU ms/store per agent from /proc
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { statusOf, waitForMesh, waitIdle } from './dist/records/phases.js'
import { recordAddress, recordContent, runPool } from './dist/records/pool.js'
import { dialAddress, killChildrenOnExit, makeTeam, startAgent } from './dist/records/procs.js'

const N = Number(process.env.N ?? 1000)
const C = Number(process.env.C ?? 16)
const xenv = process.env.XENV ? JSON.parse(process.env.XENV) : {}
const ROLE = 'backend_developer'
const root = mkdtempSync(join(tmpdir(), 'exp-'))
const cleanup = () => {
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true })
}
killChildrenOnExit(cleanup)
const ids = ['bench-1', 'bench-2', 'bench-3', 'bench-4', 'bench-5']
const env = (boot, id) => ({
  CHORUS_ROLE: ROLE,
  CHORUS_AGENT_ID: id,
  CHORUS_BOOTSTRAP_PEERS: boot.join(','),
  CHORUS_JOIN_STAGGER_MS: '200',
  CHORUS_LOG_LEVEL: 'warn',
  CHORUS_REPLICATION_REPLICATION_FACTOR: '3',
  CHORUS_REPLICATION_REPROVIDE_INTERVAL: '120000',
  CHORUS_REPLICATION_REPAIR_INTERVAL: '10000',
  CHORUS_DHT_DISCOVERY_INTERVAL: '10000',
  CHORUS_DHT_AUTO_BOOTSTRAP_INTERVAL: '1000',
  CHORUS_SHUTDOWN_TIMEOUT_MS: '20000',
  ...xenv
})
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}
await makeTeam(root, ids, ROLE)
const agents = [await startAgent(ids[0], join(root, ids[0]), env([], ids[0]))]
const boot = dialAddress(agents[0].info)
agents.push(...(await Promise.all(ids.slice(1).map((id) => startAgent(id, join(root, id), env([boot], id))))))
await waitForMesh(agents, 4)
await new Promise((r) => setTimeout(r, Number(process.env.SETTLE ?? 3000)))
import('node:child_process').then(() => {})
const { spawn: sp } = await import('node:child_process')
const tracers = process.env.STRACE
  ? [0, 1].map((i) =>
      sp('strace', ['-f', '-c', '-o', `/tmp/strace-${i}.txt`, '-p', String(agents[i].child.pid)], {
        stdio: 'ignore'
      })
    )
  : []
if (tracers.length) await new Promise((r) => setTimeout(r, 1000))
const i0 = agents.map((a) => cpu(a.child.pid))
const it0 = performance.now()
await new Promise((r) => setTimeout(r, 6000))
const idleRate = agents.map((a, i) => (cpu(a.child.pid) - i0[i]) / (performance.now() - it0))
const c0 = agents.map((a) => cpu(a.child.pid))
const t0 = performance.now()
const r = await runPool(N, C, async (i) => {
  const res = await agents[0].api('POST', '/v1/content', {
    address: recordAddress('bench-1', ROLE, i),
    content: recordContent(i, 1024),
    contentType: 'text/plain'
  })
  if (res.status !== 201) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
})
const tq = performance.now() - t0
await waitIdle(() => statusOf(agents[0]), 600000)
const ti = performance.now() - t0
const c1 = agents.map((a) => cpu(a.child.pid))
for (const t of tracers) t.kill('SIGINT')
if (tracers.length) await new Promise((r) => setTimeout(r, 1000))
console.log(`ok ${r.ok} failed ${r.failed} ${JSON.stringify(r.errors)}`)
console.log(`at quorum ${((r.ok / tq) * 1000).toFixed(1)}/s, until idle ${((r.ok / ti) * 1000).toFixed(1)}/s`)
console.log('idle CPU ms/s: ' + idleRate.map((r) => (r * 1000).toFixed(1)).join(' '))
const net = c1.map((c, i) => (c - c0[i] - idleRate[i] * ti) / N)
console.log(
  'CPU ms/store minus idle: ' +
    net.map((c) => c.toFixed(2)).join(' ') +
    '  total ' +
    net.reduce((a, b) => a + b, 0).toFixed(1)
)
console.log(
  'CPU ms/store: ' + c1.map((c, i) => ((c - c0[i]) / N).toFixed(2)).join(' '),
  ' total',
  (c1.reduce((s, c, i) => s + c - c0[i], 0) / N).toFixed(1)
)
if (process.env.IDLE_AFTER) {
  await Promise.all(agents.map((x) => waitIdle(() => statusOf(x), 120000)))
  const rep = async () => Promise.all(agents.map(async (a) => (await statusOf(a)).replication ?? {}))
  const r0 = await rep()
  console.log('idle window starts', Date.now())
  const a0 = agents.map((a) => cpu(a.child.pid))
  const t = performance.now()
  await new Promise((r) => setTimeout(r, Number(process.env.IDLE_MS ?? 15000)))
  const r1 = await rep()
  const flat = (o, pre = '') =>
    Object.entries(o).flatMap(([k, v]) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? flat(v, pre + k + '.')
        : typeof v === 'number'
          ? [[pre + k, v]]
          : []
    )
  const f0 = r0.map((x) => new Map(flat(x))),
    f1 = r1.map((x) => new Map(flat(x)))
  for (const k of f1[0].keys()) {
    const d = f1.map((m, i) => (m.get(k) ?? 0) - (f0[i].get(k) ?? 0))
    if (d.some((x) => x !== 0) && !/time|Time|At$|age|Ms$/.test(k))
      console.log(`idle ${k}: ${d.join(' ')}   (now ${f1.map((m) => m.get(k)).join(' ')})`)
  }
  console.log(
    'idle after CPU ms/s: ' +
      agents
        .map((a, i) => (((cpu(a.child.pid) - a0[i]) / (performance.now() - t)) * 1000).toFixed(1))
        .join(' ')
  )
}
if (process.env.RESTART) {
  await Promise.all(agents.map((x) => waitIdle(() => statusOf(x), 120000)))
  await agents[0].stop()
  const again = await startAgent(ids[0], join(root, ids[0]), {
    ...env([dialAddress(agents[1].info)], ids[0]),
    ...(process.env.RESTART_XENV ? JSON.parse(process.env.RESTART_XENV) : {})
  })
  agents[0] = again
  console.log(`restart ready ${again.readyMs.toFixed(0)} ms`)
}
await Promise.allSettled(agents.map((a) => a.stop()))
cleanup()
console.log('root', root)
process.exit(0)
