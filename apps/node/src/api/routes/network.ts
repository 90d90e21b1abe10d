/**
 * The network: connected peers, peers by role or capability, content announcements and the peers
 * that hold an address (provider records, and replication's rated providers), replication health.
 */
import { OBJECT, PEER, ref, responses } from '../openapi.js'
import type { RouteModule } from './context.js'

const network = (summary: string, ok: unknown) => ({
  summary,
  tags: ['network'],
  response: responses({ 200: ok })
})
const peerIds = {
  type: 'object',
  required: ['count', 'peers'],
  additionalProperties: true,
  properties: { count: { type: 'integer' }, peers: { type: 'array', items: { type: 'string' } } }
}

import { ADDRESS, PEER_NAME, PROVIDER_LIMIT, query } from './schemas.js'

export const networkRoutes: RouteModule = (app, { service, requireReady }) => {
  app.get(
    '/v1/peers',
    {
      schema: network('The peers this agent is connected to, with what they announced and proved', {
        type: 'object',
        required: ['count', 'peers'],
        properties: { count: { type: 'integer' }, peers: { type: 'array', items: ref(PEER) } }
      })
    },
    async () => {
      const peers = await service.peers()
      return { count: peers.length, peers }
    }
  )

  for (const by of ['role', 'capability'] as const) {
    app.get<{ Params: Record<typeof by, string> }>(
      `/v1/peers/${by}/:${by}`,
      {
        schema: {
          ...network(`The peers that announced this ${by} on the DHT`, OBJECT),
          params: query({ [by]: PEER_NAME }, [by])
        }
      },
      async (req) => {
        requireReady()
        return service.findPeers(by, req.params[by])
      }
    )
  }

  app.post<{ Body: { address: string } }>(
    '/v1/content/announce',
    {
      schema: {
        ...network(
          'Announce this agent as a provider of an address: the peers that acknowledged it',
          peerIds
        ),
        body: query({ address: ADDRESS }, ['address'])
      }
    },
    async (req) => {
      requireReady()
      return service.announce(req.body.address)
    }
  )

  app.get<{ Querystring: { address: string } }>(
    '/v1/content/peers',
    {
      schema: {
        ...network('The peers whose provider records name the address', peerIds),
        querystring: query({ address: ADDRESS }, ['address'])
      }
    },
    async (req) => {
      requireReady()
      return service.discoverPeers(req.query.address)
    }
  )

  app.get<{ Querystring: { address: string; limit: number } }>(
    '/v1/content/providers',
    {
      schema: {
        ...network('The providers of an address, best first, with quality (0..1) and XOR distance', {
          type: 'object',
          required: ['count', 'providers'],
          additionalProperties: true,
          properties: {
            count: { type: 'integer' },
            providers: { type: 'array', items: { type: 'object', additionalProperties: true } }
          }
        }),
        querystring: query({ address: ADDRESS, limit: PROVIDER_LIMIT }, ['address'])
      }
    },
    async (req) => {
      requireReady()
      return service.providers(req.query.address, req.query.limit)
    }
  )

  app.get<{ Querystring: { address?: string } }>(
    '/v1/replication',
    {
      schema: {
        ...network('Replication health of one address (holders, providers), or overall figures', OBJECT),
        querystring: query({ address: ADDRESS })
      }
    },
    async (req) => {
      requireReady()
      return service.replication(req.query.address)
    }
  )
}
