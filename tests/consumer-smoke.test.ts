// Teams depend on single packages: pack every package the way it would be published, install the
// tarballs in a scratch project outside the workspace with npm, and import each one there.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: plain ESM script without types
import { ROOT, workspacePackageDirs } from '../scripts/check-deps.mjs'

const dirs: string[] = workspacePackageDirs()
const manifests = dirs
  .map((dir) => ({ dir, ...JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  // Private workspace packages (the benchmark harness) are never published.
  .filter((m) => m.private !== true)
const scratch = mkdtempSync(join(tmpdir(), 'chorus-consumer-'))
const tarballs = new Map<string, string>()

beforeAll(() => {
  const packDir = join(scratch, 'tarballs')
  for (const m of manifests) {
    const before = new Set(safeList(packDir))
    execFileSync('pnpm', ['pack', '--pack-destination', packDir], { cwd: m.dir, stdio: 'pipe' })
    const made = safeList(packDir).find((f) => !before.has(f))
    if (made === undefined) throw new Error(`pnpm pack made no tarball for ${m.name}`)
    tarballs.set(m.name, join(packDir, made))
  }
  const app = join(scratch, 'app')
  execFileSync('mkdir', ['-p', app])
  // Internal dependencies resolve to the packed tarballs, not the registry.
  const local = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]))
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: local, overrides: local })
  )
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline'], {
    cwd: app,
    stdio: 'pipe',
    env: { ...process.env, npm_config_nodedir: '' }
  })
}, 600_000)

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

describe('consumer smoke test: each packed package installs and imports outside the workspace', () => {
  it.each(manifests.map((m) => [m.name, m] as const))('%s', async (name, m) => {
    const tarball = tarballs.get(name)!
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    // Ships the build and README, never sources, tests or workspace-only references.
    expect(listing).toContain('package/dist/index.js')
    expect(listing).toContain('package/dist/index.d.ts')
    expect(listing).toContain('package/README.md')
    expect(listing).not.toMatch(/package\/(src|test)\//)
    const packed = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })
    )
    expect(JSON.stringify(packed)).not.toContain('workspace:')

    const script = `import(${JSON.stringify(name)}).then(m => console.log(JSON.stringify(Object.keys(m).sort())))`
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: join(scratch, 'app'),
      encoding: 'utf8'
    })
    const inWorkspace = Object.keys(await import(join(m.dir, 'dist/index.js'))).sort()
    expect(JSON.parse(out)).toEqual(inWorkspace)
    void ROOT
  })
})
