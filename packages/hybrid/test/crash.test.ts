import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLocalDHT, type DHT } from '@chorus/dht'
import { afterEach, describe, expect, it } from 'vitest'
import { createHybridDHT } from '../src/index.js'
import { Cleanup, dec, waitFor } from './helpers.js'

const cleanup = new Cleanup()
afterEach(() => cleanup.run())

const here = fileURLToPath(new URL('.', import.meta.url))
const writer = join(here, 'fixtures', 'crash-writer.ts')
const built = existsSync(join(here, '..', 'dist', 'index.js'))

describe('the write journal after a crash', () => {
  // The child runs the built package (Node runs the .ts fixture itself); `pnpm build` first.
  it.skipIf(!built)(
    'keeps every acknowledged write when the process is killed',
    async () => {
      const dir = cleanup.dir('crash')
      const child = spawn(process.execPath, [writer, dir, '200'], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
      })
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString()
      })
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
      try {
        // Kill it part-way through its writes, with no chance to close anything.
        await waitFor(
          'the child to write',
          () => out.includes('acked 120') || child.exitCode !== null,
          30_000
        )
        child.kill('SIGKILL')
        await exited
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      const acked = [...out.matchAll(/acked (\d+)/g)].map((m) => Number(m[1]))
      expect(acked.length, err).toBeGreaterThan(100)

      // Restarted on the same directory: every acknowledged write is journaled and replays.
      const network = cleanup.add(createLocalDHT({ peerId: 'network' }))
      const local = cleanup.add(createLocalDHT({ dataDir: join(dir, 'local') }))
      const probe = async (p: DHT, o: { signal: AbortSignal }): Promise<void> => {
        await p.getValues('/CHORUS/probe', o)
      }
      const dht = cleanup.add(
        createHybridDHT(
          { primary: network, fallback: local },
          { dataDir: join(dir, 'journal'), probe, probeInterval: 0 }
        )
      )
      expect(dht.pendingWrites()).toBeGreaterThanOrEqual(acked.length)
      await waitFor('the replay', () => dht.pendingWrites() === 0, 20_000)
      for (const i of acked)
        expect(dec.decode(await network.getValue(`/CHORUS/crash-${i}`))).toBe(`value ${i}`)
    },
    60_000
  )
})
