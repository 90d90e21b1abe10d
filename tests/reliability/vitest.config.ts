import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dist = (pkg: string, entry = 'index.js'): string => `${root}${pkg}/dist/${entry}`

// The reliability suite runs against the built packages (dist/), the way an application uses them.
// Files are named *.spec.ts so the `workspace` project (tests/**/*.test.ts) does not run them twice.
export default defineProject({
  resolve: {
    alias: [
      { find: /^@chorus\/dht\/testing$/, replacement: dist('packages/dht', 'testing/index.js') },
      { find: /^@chorus\/dht$/, replacement: dist('packages/dht') },
      { find: /^@chorus\/storage\/testing$/, replacement: dist('packages/storage', 'testing.js') },
      { find: /^@chorus\/storage$/, replacement: dist('packages/storage') },
      { find: /^@chorus\/crypto$/, replacement: dist('packages/crypto') },
      { find: /^@chorus\/ucxl$/, replacement: dist('packages/ucxl') },
      { find: /^@chorus\/team$/, replacement: dist('packages/team') },
      { find: /^@chorus\/replication$/, replacement: dist('packages/replication') },
      { find: /^@chorus\/node$/, replacement: dist('apps/node') },
      // the suite builds raw CBOR with the same encoder storage uses
      { find: /^cborg$/, replacement: `${root}packages/storage/node_modules/cborg/cborg.js` }
    ]
  },
  test: {
    name: 'reliability',
    include: ['**/*.spec.ts'],
    // multi-node files start real libp2p nodes on 127.0.0.1: one file at a time on two cores
    fileParallelism: false,
    // soak mode (CHORUS_SOAK=1) runs ten times the fuzzing and more records: give it room
    testTimeout: process.env.CHORUS_SOAK === '1' ? 1_800_000 : 120_000,
    hookTimeout: 120_000,
    globalSetup: ['./global-setup.ts']
  }
})
