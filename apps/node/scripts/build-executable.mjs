// Bundles the chorus-node executable (dist/bin/): esbuild puts the CLI and the agent with all their
// dependencies into a few ES modules, so that starting an agent reads a handful of files instead of
// resolving and loading some 1,350 modules (about a second of CPU before the agent could do any
// work; see the README's "Why a bundled executable"). The CLI's lazy imports stay lazy: each
// command's code is its own chunk. The library (dist/index.js) is tsc's output, not bundled.
import { readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'bin')

// The chunks sit in dist/bin/, one level below dist/ like every module tsc emits, so the paths
// the code resolves against its own URL (../console-ui/, ../../package.json, ../bin/) hold in both.
for (const f of readdirSync(out, { withFileTypes: true })) {
  if (f.isFile() && f.name !== '.keep') rmSync(join(out, f.name))
}
await build({
  entryPoints: { 'chorus-node': join(root, 'src', 'bin', 'chorus-node.ts') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  legalComments: 'linked',
  // some CommonJS dependencies call require(): give the ES module bundle one
  banner: {
    js: "import { createRequire as __chorusRequire } from 'node:module';\nconst require = __chorusRequire(import.meta.url);"
  },
  logLevel: 'warning'
})
