/**
 * The client's types are those of the API's OpenAPI document: src/api-types.ts is what
 * openapi-typescript makes of apps/node/openapi.json today (which a node test checks against the
 * running agent), so a route changed without regenerating fails here.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)

describe('src/api-types.ts', () => {
  it('matches apps/node/openapi.json (else: pnpm --filter @chorus/client types)', async () => {
    const script = new URL('../scripts/types.mjs', import.meta.url).pathname
    await expect(run(process.execPath, [script, '--check'])).resolves.toBeDefined()
  }, 60_000)
})
