/**
 * A body over the API's limit is answered with a readable 413, not a reset connection, even
 * while the client is still sending it (fastify refuses before reading the body).
 */
import { request } from 'node:http'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentService } from '../src/agent/service.js'
import { type APIServer, createAPIServer } from '../src/api/server.js'

const LIMIT = 64 * 1024
let server: APIServer
let url: URL

beforeAll(async () => {
  // The refusal comes before any route runs: the service is never called.
  server = createAPIServer({
    service: {} as AgentService,
    token: 't0ken',
    logger: pino({ level: 'silent' }),
    bodyLimitBytes: LIMIT
  })
  url = new URL(await server.listen('127.0.0.1', 0))
})
afterAll(() => server.close())

interface Answer {
  status: number
  body: string
  connection: string | undefined
}

/** POSTs `size` bytes in 16 KiB chunks, one per event-loop turn, as long as the socket takes them. */
function postSlowly(size: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/content',
        method: 'POST',
        headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json', 'content-length': size }
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection })
        )
        res.on('error', reject)
      }
    )
    // Past the drain bound the server cuts the connection while we send: the answer, read
    // before that, is what the test looks at.
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)))
    const chunk = Buffer.alloc(16 * 1024, 0x20)
    let sent = 0
    const next = (): void => {
      if (sent >= size || req.destroyed) return void req.end()
      const n = Math.min(chunk.length, size - sent)
      sent += n
      req.write(chunk.subarray(0, n), () => setImmediate(next))
    }
    next()
  })
}

describe('API body limit', () => {
  it('answers 413 and keeps the connection, so a client still sending reads the answer', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postSlowly(6 * LIMIT)
      expect(res.status).toBe(413)
      expect(JSON.parse(res.body).error.code).toBe('UCXL-413-CONTENT_TOO_LARGE')
      // fastify alone says `close` here, and the client's next write meets a reset (EPIPE)
      expect(res.connection).not.toBe('close')
    }
  })

  it('still cuts off a body declared larger than the drain bound', async () => {
    const res = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/v1/content',
          method: 'POST',
          headers: {
            authorization: 'Bearer t0ken',
            'content-type': 'application/json',
            'content-length': 9 * LIMIT
          }
        },
        (r) => {
          r.resume()
          resolve({ status: r.statusCode ?? 0, body: '', connection: r.headers.connection })
        }
      )
      req.on('error', reject)
      req.write('{')
    })
    expect(res.status).toBe(413)
    expect(res.connection).toBe('close')
  })
})
