import assert from 'node:assert/strict'
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { createLibP2PDHT, type PeerAdmission } from '@chorus/dht'
import { permissiveRecords } from '@chorus/dht/testing'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'

// A stand-in for @chorus/team's policy: a certificate is an HMAC of the member's node key under
// a team secret. Production admission checks a root-signed member certificate instead.
const secret = randomBytes(32)
const certify = (key: PrivateKey): Uint8Array =>
  createHmac('sha256', secret).update(key.publicKey.raw).digest()
const team = (own: Uint8Array): PeerAdmission => ({
  certificate: () => own,
  admit(peerKey, certificate) {
    const expected = createHmac('sha256', secret).update(peerKey).digest()
    if (certificate.byteLength !== expected.byteLength || !timingSafeEqual(certificate, expected)) {
      throw new Error('not a member of this team')
    }
    return {
      agent: Buffer.from(peerKey).toString('hex').slice(0, 8),
      roles: ['developer'],
      notAfter: Date.now() + 3_600_000
    }
  }
})

const init = {
  records: permissiveRecords,
  mode: 'server',
  autoBootstrap: false,
  discoveryInterval: 0
} as const
const aKey = await generateKeyPair('Ed25519')
const bKey = await generateKeyPair('Ed25519')
const a = await createLibP2PDHT({ ...init, privateKey: aKey, admission: team(certify(aKey)) })
const b = await createLibP2PDHT({
  ...init,
  privateKey: bKey,
  admission: team(certify(bKey)),
  bootstrapPeers: a.multiaddrs
})
// an outsider: it runs the same protocol, but its certificate was not made with the team secret
const outsider = await createLibP2PDHT({ ...init, admission: team(randomBytes(32)) })
try {
  await b.bootstrap()
  // members are admitted both ways and serve each other
  assert.equal(a.admittedPeer(b.peerId)?.roles[0], 'developer')
  const { acks } = await b.putValue('/CHORUS/example/team', new TextEncoder().encode('members only'))
  assert.deepEqual(acks, [a.peerId])

  // the outsider is refused, hung up on and kept out for admissionDenyPeriod
  await outsider.libp2p.dial(multiaddr(a.multiaddrs[0]!)).catch(() => {})
  for (let i = 0; i < 100 && ((await a.getStats()).admission?.refused ?? 0) === 0; i++) {
    await new Promise((r) => setTimeout(r, 50))
  }
  const stats = await a.getStats()
  assert.equal(stats.admission?.refused, 1)
  assert.equal(a.admittedPeer(outsider.peerId), undefined)
  assert.deepEqual(a.getConnectedPeers(), [b.peerId])
} finally {
  await Promise.all([a.close(), b.close(), outsider.close()])
}
console.log('ok')
