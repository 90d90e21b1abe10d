import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createLab, labUnavailableReason } from '@chorus/netlab'

const why = labUnavailableReason()
if (why !== undefined) {
  console.log(`skipped: ${why}`)
  process.exit(0)
}

// an office (public) and a home behind a NAT router, one host each
const lab = await createLab()
try {
  await lab.addSite('office')
  await lab.addSite('home', { nat: true })
  const server = await lab.addNode('office', 'server')
  await lab.addNode('home', 'laptop')

  // a TCP server in the office answers with the address each connection comes from
  lab.spawn('server', {
    args: ['-e', `require('node:net').createServer((s) => s.end(s.remoteAddress)).listen(7000, '0.0.0.0')`]
  })
  await new Promise((r) => setTimeout(r, 500))
  const ask = async () => {
    const client = lab.spawn('laptop', {
      name: `client-${Date.now()}`,
      args: [
        '-e',
        `const s = require('node:net').connect({ host: '${server.host}', port: 7000, timeout: 1000 });
         s.on('data', (d) => console.log(String(d))); s.on('error', () => console.log('unreachable'));
         s.on('timeout', () => { console.log('unreachable'); process.exit(0) })`
      ]
    })
    await client.exited
    return readFileSync(client.logFile, 'utf8').trim()
  }

  // the office sees the laptop as its home's NAT router
  assert.equal(await ask(), lab.sites()[1]?.natAddress)
  // cut the two apart, then heal
  await lab.partition(['laptop'], ['server'])
  assert.equal(await ask(), 'unreachable')
  await lab.heal()
  assert.equal(await ask(), lab.sites()[1]?.natAddress)
} finally {
  await lab.destroy() // every namespace, process and directory of the lab
}
console.log('ok')
