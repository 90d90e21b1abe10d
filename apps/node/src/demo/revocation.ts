/**
 * The demo's last act: a member is revoked and the key of the role it held is rotated. The
 * administrators sign the records offline (3 other shares) and hand them to one agent, which
 * checks them and puts them on the DHT; every other agent takes them from there. Then the revoked
 * member's writes are refused everywhere (through its own agent, and relayed by an admitted
 * member), content written after the revocation does not open with its keys, and the remaining
 * members read everything, old content included. Each function resolves with its step's detail.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pause } from '@chorus/common'
import { createAgeCrypto, createKeyring, createRoleRegistry, DecryptionDeniedError } from '@chorus/crypto'
import { headKey, openEnvelope } from '@chorus/storage'
import { addressDigest, parseAddress } from '@chorus/ucxl'
import { revokeMember } from '../team/lifecycle.js'
import type { AgentProcess } from './agents.js'
import { type AttackContext, withIntruder, withRelay } from './attacks.js'

type TeamStatus = {
  hybrid?: { activeBackend?: string }
  team: {
    manifestVersion: number
    revocations: { version: number }
    roleKeys: Record<string, { current: Array<{ keyId: string }> }>
  }
}

/** Revoke `agent`, publish through `via`, wait until every other agent took it and hung up on `revoked`. */
export async function revokeAndRotate(
  ctx: AttackContext,
  agent: string,
  revoked: AgentProcess,
  via: AgentProcess
): Promise<string> {
  const res = await revokeMember({ dir: ctx.teamDir, shares: ctx.shareFiles.slice(1, 4), agent })
  const published = await via.api<{ count?: number }>('POST', '/v1/team/records', {
    records: res.records.map((r) => ({ key: r.key, value: Buffer.from(r.value).toString('base64url') }))
  })
  if (published.status !== 200) throw new Error(`HTTP ${published.status} ${JSON.stringify(published.body)}`)
  const rotated = res.rotated.map((r) => `${r.role} → key ${r.keyId}`).join(', ')
  const others = ctx.agents.filter((a) => a !== revoked)
  // each agent reads the list and the manifest every dht.discoveryInterval (2 s here); a loaded
  // machine takes longer to join the restarted writer
  const deadline = Date.now() + 90_000
  for (const a of others) {
    for (;;) {
      const status = (await a.api<TeamStatus>('GET', '/v1/status')).body
      const t = status.team
      const peers = (await a.api<{ peers: Array<{ id: string }> }>('GET', '/v1/peers')).body.peers
      const missing = [
        ...(t.revocations.version === res.revocationsVersion ? [] : ['the revocation list']),
        ...(res.rotated.every((r) => t.roleKeys[r.role]?.current[0]?.keyId === r.keyId)
          ? []
          : ['the new manifest']),
        ...(peers.some((p) => p.id === revoked.info.peerId) ? ['hanging up on it'] : [])
      ]
      if (missing.length === 0) break
      if (Date.now() > deadline) {
        // what the agent holds instead, for the next one who reads this failure
        const holds = `manifest v${t.manifestVersion} of v${res.manifestVersion}, revocation list v${t.revocations.version}, hybrid backend ${status.hybrid?.activeBackend ?? 'unknown'}`
        throw new Error(`${a.name} is missing ${missing.join(', ')} (it holds ${holds})`)
      }
      await pause(500)
    }
  }
  return `revocation list v${res.revocationsVersion} and manifest v${res.manifestVersion} (rotated ${rotated || 'nothing'}) taken by all ${others.length} other agents; every one hung up on ${agent}`
}

/** The revoked member writes through its own agent, and signs a record an admitted member relays. */
export async function revokedMemberWrites(
  ctx: AttackContext,
  revoked: AgentProcess,
  address: string,
  role: string
): Promise<string> {
  const own = await revoked.api('POST', '/v1/content', { address, content: 'written after my revocation' })
  // its node key and certificate, in a directory of its own (its agent holds its datastore)
  const dir = join(ctx.root, 'revoked-forger')
  mkdirSync(join(dir, 'libp2p'), { recursive: true, mode: 0o700 })
  copyFileSync(join(revoked.dataDir, 'libp2p', 'peer.key'), join(dir, 'libp2p', 'peer.key'))
  const certificate = new Uint8Array(readFileSync(join(revoked.dataDir, 'team', 'certificate')))
  const acks = await withIntruder({ ...ctx, agents: [] }, dir, certificate, async (forger) => {
    const forged = await forger.forge({ address, creatorRole: role, content: 'relayed for a revoked member' })
    return withRelay(
      ctx,
      async (relay) => (await relay.put(forged.head.key, forged.head.value))?.acks.length ?? 0
    )
  })
  if (acks !== 0) throw new Error(`${acks} agent(s) acknowledged the revoked member's record`)
  const others = ctx.agents.filter((a) => a !== revoked)
  const found = await Promise.all(
    others.map(
      async (a) =>
        (await a.api('GET', `/v1/content?address=${encodeURIComponent(address)}&fresh=true`)).status
    )
  )
  if (found.some((s) => s !== 404)) throw new Error(`answers: ${found.join(', ')}`)
  return `its own agent answered HTTP ${own.status} (${own.status === 201 ? 'kept on its own node: no peer takes it' : 'refused'}); relayed by an admitted member: acknowledged by 0 agents; found by none of ${others.length} (HTTP 404)`
}

/** Content written after the revocation: readers read it and the old one; the revoked member's keys do not open it. */
export async function newContentAfterRevocation(
  ctx: AttackContext,
  writer: AgentProcess,
  revoked: AgentProcess,
  readers: AgentProcess[],
  address: string,
  oldAddress: string,
  oldContent: string
): Promise<string> {
  const content = 'Decision after the revocation: rotate the database credentials'
  const stored = await writer.api('POST', '/v1/content', { address, content })
  if (stored.status !== 201) throw new Error(`HTTP ${stored.status} ${JSON.stringify(stored.body)}`)
  for (const r of readers) {
    for (const [a, want] of [
      [address, content],
      [oldAddress, oldContent]
    ] as const) {
      const got = await r.api<{ content?: string }>(
        'GET',
        `/v1/content?address=${encodeURIComponent(a)}&fresh=true`
      )
      if (got.status !== 200 || got.body.content !== want)
        throw new Error(`${r.name} does not read ${a}: HTTP ${got.status}`)
    }
  }
  const theirs = await revoked.api('GET', `/v1/content?address=${encodeURIComponent(address)}&fresh=true`)
  if (theirs.status === 200) throw new Error('the revoked member read the new content')
  // even holding the record, its keys do not open it
  const record = await withRelay(ctx, async (relay) => {
    // the relay has just joined: its first queries may run before any agent admitted it
    const key = headKey(addressDigest(parseAddress(address)))
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        return await relay.dht.getValue(key)
      } catch (err) {
        if (Date.now() > deadline) throw err
        await pause(500)
      }
    }
  })
  const keyring = createKeyring()
  await keyring.loadIdentities(join(revoked.dataDir, 'keys'))
  const crypto = createAgeCrypto({ roles: createRoleRegistry(), keyring })
  const opened = await crypto.decryptWithRole(openEnvelope(record).ciphertext).then(
    () => true,
    (err: unknown) => {
      if (DecryptionDeniedError.isInstance(err)) return false
      throw err
    }
  )
  if (opened) throw new Error("the revoked member's keys open the new content")
  return `${readers.map((r) => r.name).join(' and ')} read it and the old decision; the revoked member gets HTTP ${theirs.status}, and its keys do not open the record`
}
