// Access: a role without permission never gets plaintext; a node without the private-network key
// cannot connect; the audit log detects an edited, removed or reordered entry; and secrets (age
// identities, peer keys, API tokens) never appear in the logs of a full run of the demo network.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLibP2PDHT, createLocalDHT, generatePsk, type LocalDHT } from '@chorus/dht'
import { permissiveRecords, startNetwork } from '@chorus/dht/testing'
import type { EncryptedStorage } from '@chorus/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSigner, nodeCrypto, startStorage, teamKeys, tempDir, text, utf8 } from './helpers.js'
import { createReport, ROOT } from './report.js'

const report = createReport('access')
afterAll(() => report.flush())

describe('roles and the audit log (two storages on one local DHT)', () => {
  const keys = teamKeys()
  const tmp = tempDir('chorus-rel-access-')
  let dht: LocalDHT
  let backend: EncryptedStorage
  let frontend: EncryptedStorage

  beforeAll(async () => {
    dht = createLocalDHT({ dataDir: join(tmp.dir, 'dht') })
    await dht.start()
    backend = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['backend_developer'],
      init: { dataDir: join(tmp.dir, 'backend'), nodeId: 'backend', writeQuorum: 0 }
    })
    frontend = await startStorage({
      dht,
      signer: makeSigner(),
      keys,
      plays: ['frontend_developer', 'qa_engineer'],
      init: { dataDir: join(tmp.dir, 'frontend'), nodeId: 'frontend', writeQuorum: 0 }
    })
  })

  afterAll(async () => {
    await Promise.allSettled([backend?.stop(), frontend?.stop()])
    await dht?.close()
    tmp.remove()
  })

  it('a role without permission never gets plaintext, by any route', async () => {
    const secret = 'SECRET-PLAINTEXT-7f3a: the backend decision'
    const addrs = [0, 1, 2].map((k) => `ucxl://agent001:backend_developer@access:t/*^/decision-${k}`)
    for (const a of addrs) await backend.storeUCXLContent(a, secret, 'backend_developer', 'text/plain')
    report.written(addrs.length)
    for (const a of addrs) {
      for (const t of ['*^', '*~', '*~1']) {
        const err = await frontend.retrieveUCXLContent(a.replace('*^', t)).then(
          () => undefined,
          (e: unknown) => e
        )
        expect(err, `frontend read ${a} ${t}`).toBeInstanceOf(Error)
        expect((err as { code?: string }).code).toBe('UCXL-403-ACCESS_DENIED')
        expect(
          JSON.stringify({ ...(err as object), m: (err as Error).message, c: String((err as Error).cause) })
        ).not.toContain('SECRET-PLAINTEXT')
        report.badInput('read by a role without permission')
      }
    }
    // the ciphertext itself, decrypted with every identity the denied node holds
    const { crypto } = nodeCrypto(keys, ['frontend_developer', 'qa_engineer'])
    const { headKey } = await import('@chorus/storage')
    const { addressDigest, parseAddress } = await import('@chorus/ucxl')
    const { decodeEnvelope } = await import('@chorus/storage')
    const raw = await dht.getValue(headKey(addressDigest(parseAddress(addrs[0]!))))
    await expect(crypto.decryptWithRole(decodeEnvelope(raw).ciphertext)).rejects.toMatchObject({
      code: 'CRYPTO_ACCESS_DENIED'
    })
    expect(text(raw)).not.toContain('SECRET-PLAINTEXT')
    // list and search reveal nothing either
    expect(await frontend.listContentByRole('backend_developer')).toEqual([])
    expect(await frontend.searchContent({ project: 'access' })).toEqual([])
    // writing as a role the node does not hold is refused
    await expect(
      frontend.storeUCXLContent(
        'ucxl://x:backend_developer@access:t/*^/impostor',
        'x',
        'backend_developer',
        'text/plain'
      )
    ).rejects.toThrow()
    report.check('roles: no plaintext for a role without permission (retrieve, raw decrypt, list, search)')
  })

  it('the audit log detects an edited, a removed and a reordered entry', async () => {
    for (let k = 0; k < 4; k++) {
      await backend.storeUCXLContent(
        `ucxl://agent001:backend_developer@access:t/*^/audit-${k}`,
        `a${k}`,
        'backend_developer',
        'text/plain'
      )
    }
    expect(await backend.verifyAuditLog()).toMatchObject({ ok: true })
    const file = join(tmp.dir, 'backend', 'audit.log')
    const original = readFileSync(file, 'utf8')
    const lines = original.split('\n').filter((l) => l !== '')
    expect(lines.length).toBeGreaterThanOrEqual(6)
    // the lines of the stores above (each flush also writes a signed checkpoint line)
    const at = (k: number) => lines.findIndex((l) => l.includes(`audit-${k}"`) && !l.includes('"checkpoint"'))
    const [a, b] = [at(1), at(2)]
    const tamper = {
      edited: lines.map((l, i) => (i === a ? l.replace('"success":true', '"success":false') : l)),
      'edited (address)': lines.map((l, i) => (i === b ? l.replace('audit-', 'audlt-') : l)),
      removed: lines.filter((_, i) => i !== a),
      'removed (last)': lines.slice(0, -1),
      reordered: lines.map((l, i) => (i === a ? lines[b]! : i === b ? lines[a]! : l)),
      'truncated line': [...lines.slice(0, -1), lines.at(-1)!.slice(0, 40)]
    }
    for (const [kind, variant] of Object.entries(tamper)) {
      expect(variant.join('\n'), kind).not.toBe(lines.join('\n'))
      writeFileSync(file, `${variant.join('\n')}\n`)
      const v = await backend.verifyAuditLog()
      expect(v.ok, `audit log ${kind} not detected`).toBe(false)
      report.badInput(`audit log ${kind.replace(/ \(.*\)/, '')}`)
    }
    writeFileSync(file, original)
    expect(await backend.verifyAuditLog()).toMatchObject({ ok: true })
    report.check('audit log: edited, removed, reordered and truncated entries detected')
  })
})

describe('private network', () => {
  it('a node without the network key, or with another key, cannot connect', async () => {
    const psk = generatePsk()
    const net = await startNetwork({ nodes: 2, psk })
    const outsiders = [
      await createLibP2PDHT({ records: permissiveRecords, bootstrapTimeout: 5_000, autoBootstrap: false }),
      await createLibP2PDHT({
        records: permissiveRecords,
        psk: generatePsk(),
        bootstrapTimeout: 5_000,
        autoBootstrap: false
      })
    ]
    try {
      for (const o of outsiders) {
        await expect(o.bootstrap({ peers: net.bootstrapAddrs })).rejects.toMatchObject({
          name: 'BootstrapError'
        })
        expect(o.getConnectedPeers()).toEqual([])
        expect(net.nodes[0]!.getConnectedPeers()).not.toContain(o.peerId)
        report.badInput('connection without the private-network key')
      }
      // members still talk to each other
      const r = await net.nodes[1]!.putValue('/test/psk', utf8('members only'))
      expect(r.acks).toContain(net.nodes[0]!.peerId)
    } finally {
      await Promise.allSettled(outsiders.map((o) => o.close()))
      await net.stop()
    }
    report.check('pnet: nodes without the key (or with another) cannot connect')
  }, 60_000)
})

const BIN = join(ROOT, 'apps/node/dist/bin/chorus-node.js')

describe.skipIf(!existsSync(BIN))('secrets in the logs of a full demo run', () => {
  it('no age identity, peer key or API token appears in any output or log', async () => {
    const out = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const env: Record<string, string> = {}
      for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && !k.startsWith('CHORUS_')) env[k] = v
      const child = spawn(process.execPath, [BIN, 'demo', '--keep'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let output = ''
      child.stdout.on('data', (d) => {
        output += d
      })
      child.stderr.on('data', (d) => {
        output += d
      })
      const t = setTimeout(() => child.kill('SIGKILL'), 170_000)
      child.on('error', reject)
      child.on('exit', (code) => {
        clearTimeout(t)
        resolve({ code, output })
      })
    })
    const dir = /kept (\/\S+)$/m.exec(out.output)?.[1] // the demo's last line: `<time> kept <absolute dir>`
    expect(dir, `demo kept no directory:\n${out.output.slice(-2000)}`).toBeDefined()
    try {
      // the scan needs a run that did real work, not a passing one: note how the demo ended
      const summary = /Summary: (\d+)\/(\d+) steps passed/.exec(out.output)
      expect(summary, out.output.slice(-2000)).not.toBeNull()
      expect(Number(summary![1])).toBeGreaterThanOrEqual(4)
      report.note(`demo run for the secret scan: ${summary![0]} (exit code ${out.code})`)
      const files = walk(dir!)
      // the secrets of this run, in every spelling a log might use
      const secrets: Array<{ what: string; value: string }> = []
      for (const f of files) {
        const name = f.slice(dir!.length + 1)
        if (f.endsWith('.key') && !f.includes('libp2p')) {
          for (const m of readFileSync(f, 'utf8').matchAll(/AGE-SECRET-KEY-1[0-9A-Z]+/g)) {
            secrets.push(
              { what: `age identity in ${name}`, value: m[0] },
              { what: `age identity in ${name} (lower case)`, value: m[0].toLowerCase() }
            )
          }
        }
        if (f.endsWith('peer.key')) {
          const raw = readFileSync(f)
          // protobuf PrivateKey { type = Ed25519, data = seed(32) || public(32) }
          const seed = raw.subarray(raw.length - 64, raw.length - 32)
          for (const [enc, v] of [
            ['hex', seed.toString('hex')],
            ['base64', seed.toString('base64').slice(0, 40)],
            ['base64url', seed.toString('base64url').slice(0, 40)],
            ['file base64', raw.toString('base64').slice(8, 48)]
          ] as const) {
            secrets.push({ what: `peer key seed of ${name} (${enc})`, value: v })
          }
        }
        if (f.endsWith('api-token')) {
          secrets.push({ what: `API token ${name}`, value: readFileSync(f, 'utf8').trim() })
        }
      }
      expect(secrets.filter((s) => s.what.startsWith('age identity')).length).toBeGreaterThanOrEqual(5)
      expect(secrets.filter((s) => s.what.startsWith('API token')).length).toBeGreaterThanOrEqual(5)
      const logs = [
        { name: 'demo output', body: out.output },
        ...files
          .filter((f) => f.endsWith('.log') && !f.includes('/datastore/'))
          .map((f) => ({ name: f.slice(dir!.length + 1), body: readFileSync(f, 'utf8') }))
      ]
      const leaks: string[] = []
      for (const log of logs) {
        if (/AGE-SECRET-KEY-1/i.test(log.body)) leaks.push(`${log.name}: an AGE-SECRET-KEY-1 string`)
        for (const s of secrets)
          if (s.value.length >= 16 && log.body.includes(s.value)) leaks.push(`${log.name}: ${s.what}`)
      }
      report.badInput('secrets scanned for in logs', secrets.length)
      report.note(
        `secret scan: ${secrets.length} secrets of a demo run searched in ${logs.length} logs (${Math.round(logs.reduce((n, l) => n + l.body.length, 0) / 1024)} KiB); leaks: ${leaks.length}`
      )
      expect(leaks).toEqual([])
      report.check('no secret (age identity, peer key, API token) in any log of a full demo run')
    } finally {
      rmSync(dir!, { recursive: true, force: true })
    }
  }, 180_000)
})

function walk(dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...walk(p))
    else out.push(p)
  }
  return out
}
