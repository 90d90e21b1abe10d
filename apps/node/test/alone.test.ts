import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { dialAddress, fastEnv, makeTeam, startAgentProcess, stopAllAgents, waitFor } from './helpers.js'

const roots: string[] = []
afterAll(async () => {
  await stopAllAgents()
  for (const d of roots) rmSync(d, { recursive: true, force: true })
}, 60_000)

describe('an agent that starts alone', () => {
  it('takes writes with no peers and they reach the network once a peer joins', async () => {
    const team = await makeTeam(['backend_developer', 'senior_architect'])
    roots.push(team.root)
    const env = (role: string) => fastEnv({ CHORUS_ROLE: role })
    const alone = await startAgentProcess({
      name: 'alone',
      dataDir: team.dataDir('backend_developer'),
      env: env('backend_developer')
    })
    const address = 'ucxl://agent001:backend_developer@project123:task789/*^/offline-decision'
    try {
      const put = await alone.api<{ metadata: { acks: number } }>('POST', '/v1/content', {
        address,
        content: 'written with no peers'
      })
      expect(put.status, JSON.stringify(put.body)).toBe(201)
      expect(put.body.metadata.acks).toBe(0)

      const reader = await startAgentProcess({
        name: 'reader',
        dataDir: team.dataDir('senior_architect'),
        env: { ...env('senior_architect'), CHORUS_BOOTSTRAP_PEERS: dialAddress(alone.info) }
      })
      const read = await waitFor(
        async () => {
          const r = await reader.api<{ content: string }>(
            'GET',
            `/v1/content?address=${encodeURIComponent(address)}&fresh=true`
          )
          return r.status === 200 ? r.body.content : undefined
        },
        60_000,
        1000
      )
      expect(read).toBe('written with no peers')

      // replication repairs the record onto the reader, so it stays readable with the writer gone
      const replicas = await waitFor(
        async () => {
          const r = await alone.api<{ actualReplicas: number }>(
            'GET',
            `/v1/replication?address=${encodeURIComponent(address)}`
          )
          return r.body.actualReplicas >= 2 ? r.body.actualReplicas : undefined
        },
        60_000,
        1000
      )
      expect(replicas).toBe(2)
      // list and search report the target factor (3; the write quorum is 2) and the holders known
      type Listed = { items: Array<{ baseAddress: string; replicationFactor: number; dhtPeers: string[] }> }
      const held = await waitFor(
        async () => {
          const r = await alone.api<Listed>('GET', '/v1/list?role=backend_developer')
          const item = r.body.items?.find((i) => address.replace('/*^/', '/') === i.baseAddress)
          return item?.dhtPeers.includes(reader.info.peerId) === true ? item : undefined
        },
        60_000,
        1000
      )
      expect(held?.replicationFactor).toBe(3)
      expect(held?.dhtPeers).not.toContain(alone.info.peerId)
      const found = await alone.api<Listed>('GET', '/v1/search?project=project123')
      expect(
        found.body.items.map((i) => [i.replicationFactor, i.dhtPeers.includes(reader.info.peerId)])
      ).toEqual([[3, true]])
      expect(await alone.stop()).toBe(0)
      const after = await reader.api<{ content: string }>(
        'GET',
        `/v1/content?address=${encodeURIComponent(address)}&fresh=true`
      )
      expect(after.status).toBe(200)
      expect(after.body.content).toBe('written with no peers')
    } finally {
      await stopAllAgents()
    }
  }, 180_000)
})
