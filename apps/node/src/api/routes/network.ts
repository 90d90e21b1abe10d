/**
 * The network: connected peers, peers by role or capability, content announcements and the peers
 * that hold an address (provider records, and replication's rated providers), replication health.
 */
import type { RouteModule } from './context.js'
import { ADDRESS, PEER_NAME, PROVIDER_LIMIT, query } from './schemas.js'

export const networkRoutes: RouteModule = (app, { service, requireReady }) => {
  app.get('/v1/peers', async () => {
    const peers = await service.peers()
    return { count: peers.length, peers }
  })

  for (const by of ['role', 'capability'] as const) {
    app.get<{ Params: Record<typeof by, string> }>(
      `/v1/peers/${by}/:${by}`,
      { schema: { params: query({ [by]: PEER_NAME }, [by]) } },
      async (req) => {
        requireReady()
        return service.findPeers(by, req.params[by])
      }
    )
  }

  app.post<{ Body: { address: string } }>(
    '/v1/content/announce',
    { schema: { body: query({ address: ADDRESS }, ['address']) } },
    async (req) => {
      requireReady()
      return service.announce(req.body.address)
    }
  )

  app.get<{ Querystring: { address: string } }>(
    '/v1/content/peers',
    { schema: { querystring: query({ address: ADDRESS }, ['address']) } },
    async (req) => {
      requireReady()
      return service.discoverPeers(req.query.address)
    }
  )

  app.get<{ Querystring: { address: string; limit: number } }>(
    '/v1/content/providers',
    { schema: { querystring: query({ address: ADDRESS, limit: PROVIDER_LIMIT }, ['address']) } },
    async (req) => {
      requireReady()
      return service.providers(req.query.address, req.query.limit)
    }
  )

  app.get<{ Querystring: { address?: string } }>(
    '/v1/replication',
    { schema: { querystring: query({ address: ADDRESS }) } },
    async (req) => {
      requireReady()
      return service.replication(req.query.address)
    }
  )
}
