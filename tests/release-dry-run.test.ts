// Releasing one package alone: a changeset for one package bumps that package and its internal
// dependents, and nothing else. Run against a copy of the workspace manifests in a scratch git repo.
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error: plain ESM script without types
import { ROOT, workspacePackageDirs } from '../scripts/check-deps.mjs'

const scratch = mkdtempSync(join(tmpdir(), 'chorus-release-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function setUp(): void {
  for (const file of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
    mkdirSync(join(scratch, file, '..'), { recursive: true })
    copyFileSync(join(ROOT, file), join(scratch, file))
  }
  for (const dir of workspacePackageDirs() as string[]) {
    mkdirSync(join(scratch, relative(ROOT, dir)), { recursive: true })
    copyFileSync(join(dir, 'package.json'), join(scratch, relative(ROOT, dir), 'package.json'))
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: scratch, stdio: 'pipe' })
  git('init', '-q', '-b', 'main')
  git('-c', 'user.email=ci@example.invalid', '-c', 'user.name=ci', 'add', '-A')
  git('-c', 'user.email=ci@example.invalid', '-c', 'user.name=ci', 'commit', '-q', '-m', 'init')
}

function releasesFor(pkg: string, bump: 'patch' | 'minor'): Record<string, string> {
  writeFileSync(join(scratch, '.changeset/only-one.md'), `---\n'${pkg}': ${bump}\n---\n\nA change.\n`)
  const out = join(scratch, 'status.json')
  execFileSync(join(ROOT, 'node_modules/.bin/changeset'), ['status', `--output=${relative(scratch, out)}`], {
    cwd: scratch,
    stdio: 'pipe'
  })
  const status = JSON.parse(readFileSync(out, 'utf8')) as { releases: { name: string; type: string }[] }
  // 'none' marks a package changesets looked at but will not release (private ones).
  return Object.fromEntries(status.releases.filter((r) => r.type !== 'none').map((r) => [r.name, r.type]))
}

describe('release dry run (changeset status)', () => {
  setUp()

  it('a change to ucxl bumps ucxl and its dependents only', () => {
    const releases = releasesFor('@chorus/ucxl', 'minor')
    expect(releases).toEqual({
      '@chorus/ucxl': 'minor',
      '@chorus/storage': 'patch',
      '@chorus/team': 'patch',
      '@chorus/node': 'patch'
    })
  })

  it('a change to hybrid bumps hybrid and the app only', () => {
    const releases = releasesFor('@chorus/hybrid', 'patch')
    expect(releases).toEqual({ '@chorus/hybrid': 'patch', '@chorus/node': 'patch' })
  })
})
