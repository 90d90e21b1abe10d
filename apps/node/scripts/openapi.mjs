#!/usr/bin/env node
/**
 * Writes apps/node/openapi.json: the OpenAPI 3.1 document @fastify/swagger generates from the
 * route schemas, exactly as a running agent serves it at /openapi.json (a test compares the two),
 * formatted by the repository's formatter (biome). Reads the build (dist/): run
 * `pnpm exec turbo run build` first. `--check` only reports drift (exit 1).
 * After a change, regenerate the client's types too: `pnpm --filter @chorus/client types`.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { pino } from 'pino'
import { createAPIServer } from '../dist/api/server.js'

const out = fileURLToPath(new URL('../openapi.json', import.meta.url))
const biome = fileURLToPath(new URL('../../../node_modules/.bin/biome', import.meta.url))
// The document comes from the routes alone: no route runs, so no agent is needed behind them.
const server = createAPIServer({ service: {}, token: 'unused', logger: pino({ level: 'silent' }) })
await server.app.ready()
const document = server.app.swagger()
await server.close()

if (process.argv.includes('--check')) {
  if (!isDeepStrictEqual(JSON.parse(readFileSync(out, 'utf8')), JSON.parse(JSON.stringify(document)))) {
    process.stderr.write('apps/node/openapi.json is out of date: run pnpm --filter @chorus/node openapi\n')
    process.exit(1)
  }
} else {
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`)
  execFileSync(biome, ['format', '--write', out], { stdio: 'ignore' })
  process.stdout.write(`wrote ${out}\n`)
}
