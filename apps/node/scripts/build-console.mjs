// Builds the web console (console-ui/) into dist/console-ui/: esbuild bundles the page's modules
// (Preact, htm, uPlot and @chorus/ucxl's decision validator included) into one app.js and one
// app.css, so the agent serves a few static files and the page loads nothing from elsewhere.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'console-ui')
const out = join(root, 'dist', 'console-ui')

rmSync(out, { recursive: true, force: true })
mkdirSync(join(out, 'assets'), { recursive: true })
await build({
  entryPoints: { app: join(src, 'src', 'main.js') },
  outdir: join(out, 'assets'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'linked',
  // @chorus/ucxl's index also exports a digest helper over node:crypto that the page never calls:
  // left out by tree shaking; the check below fails the build if any of it remained
  external: ['node:*'],
  logLevel: 'warning'
})
if (/from\s*"node:/.test(readFileSync(join(out, 'assets', 'app.js'), 'utf8'))) {
  throw new Error('console-ui: the bundle imports a node: module')
}
copyFileSync(join(src, 'index.html'), join(out, 'index.html'))
copyFileSync(join(src, 'favicon.svg'), join(out, 'assets', 'favicon.svg'))
