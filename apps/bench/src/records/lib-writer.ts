/**
 * The records bench's library writer: one CHORUS node in its own OS process, built with
 * @chorus/node's `createAgent` (the library: @chorus/storage's encrypted store over @chorus/dht and
 * replication, exactly as the agent composes them) with no HTTP API in front, joined to the bench's
 * agents, writing records by calling the library. Driven over the fork IPC channel; its settings
 * come from the CHORUS_* environment it is given.
 *
 *   start                                         -> { peerId }
 *   write { first, count, concurrency, bytes, agentId, role } -> PoolResult
 *   status                                        -> the agent's status (storage and replication metrics)
 *   stop
 */
import { type Agent, createAgent, createLogger, loadConfig } from '@chorus/node'
import { recordAddress, recordContent, runPool } from './pool.js'

if (process.send == null) {
  process.stderr.write('lib-writer.js is forked by the records bench\n')
  process.exit(2)
}
const send = process.send.bind(process)
let agent: Agent | undefined

interface Req {
  id: number
  op: string
  first?: number
  count?: number
  concurrency?: number
  bytes?: number
  agentId?: string
  role?: string
}

function running(): Agent {
  if (agent == null) throw new Error('not started')
  return agent
}

async function handle(req: Req): Promise<unknown> {
  switch (req.op) {
    case 'start': {
      const { config } = loadConfig({ env: process.env })
      agent = await createAgent(config, createLogger(config.log.level, { role: config.role }))
      await agent.start()
      const deadline = Date.now() + 120_000
      while (!agent.isReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      return { peerId: agent.peerId }
    }
    case 'write': {
      const a = running()
      const bytes = req.bytes ?? 1024
      const enc = new TextEncoder()
      return runPool(
        req.count ?? 0,
        req.concurrency ?? 16,
        async (i) => {
          await a.store({
            address: recordAddress(req.agentId!, req.role!, i),
            content: enc.encode(recordContent(i, bytes)),
            contentType: 'text/plain'
          })
        },
        req.first ?? 0
      )
    }
    case 'status':
      return running().status()
    case 'stop':
      await agent?.stop()
      process.exit(0)
      return null
    default:
      throw new Error(`unknown op ${req.op}`)
  }
}

process.on('message', (req: Req) => {
  handle(req).then(
    (result) => send({ id: req.id, ok: true, result: JSON.parse(JSON.stringify(result ?? null)) }),
    (err: Error) => send({ id: req.id, ok: false, error: err.message })
  )
})
process.on('disconnect', () => {
  void (agent?.stop() ?? Promise.resolve()).finally(() => process.exit(0))
})
