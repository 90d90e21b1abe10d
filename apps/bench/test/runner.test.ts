// scripts/bench.mjs (the `pnpm bench` runner): which packages it rebuilds before benchmarking.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

interface Runner {
  staleBuilds(root: string): Array<{ name: string }>
  workspacePackages(root: string): Array<{ name: string; deps: string[]; bench?: string }>
}
const runnerPath: string = new URL('../../../scripts/bench.mjs', import.meta.url).href
const load = async (): Promise<Runner> => (await import(runnerPath)) as Runner

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A workspace with one package per entry: its dist/ and src/ written at the given times (s). */
function workspace(pkgs: Record<string, { src: number; dist?: number; deps?: string[] }>): string {
  const root = mkdtempSync(join(tmpdir(), 'bench-runner-'))
  dirs.push(root)
  for (const [name, p] of Object.entries(pkgs)) {
    const dir = join(root, 'packages', name)
    mkdirSync(join(dir, 'src'), { recursive: true })
    const manifest = {
      name: `@chorus/${name}`,
      scripts: { build: 'tsc', bench: 'node bench/index.ts' },
      dependencies: Object.fromEntries((p.deps ?? []).map((d) => [`@chorus/${d}`, 'workspace:^']))
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest))
    writeFileSync(join(dir, 'tsconfig.json'), '{}')
    writeFileSync(join(dir, 'src', 'index.ts'), 'export {}')
    for (const f of ['package.json', 'tsconfig.json', 'src/index.ts']) utimesSync(join(dir, f), p.src, p.src)
    if (p.dist != null) {
      mkdirSync(join(dir, 'dist'))
      writeFileSync(join(dir, 'dist', 'index.js'), 'export {}')
      utimesSync(join(dir, 'dist', 'index.js'), p.dist, p.dist)
    }
  }
  return root
}

describe('bench runner build check', () => {
  it('rebuilds only packages whose dist is missing or older than their sources', async () => {
    const { staleBuilds } = await load()
    const root = workspace({
      fresh: { src: 1000, dist: 2000 },
      edited: { src: 3000, dist: 2000 },
      unbuilt: { src: 1000 }
    })
    expect(
      staleBuilds(root)
        .map((p) => p.name)
        .sort()
    ).toEqual(['@chorus/edited', '@chorus/unbuilt'])
  })

  it('finds nothing to build in a tree built after its last edit', async () => {
    const { staleBuilds } = await load()
    const root = workspace({ a: { src: 1000, dist: 1500 }, b: { src: 1200, dist: 1500, deps: ['a'] } })
    expect(staleBuilds(root)).toEqual([])
  })

  it('reads the workspace dependencies of each package', async () => {
    const { workspacePackages } = await load()
    const root = workspace({ a: { src: 1, dist: 2 }, b: { src: 1, dist: 2, deps: ['a'] } })
    const b = workspacePackages(root).find((p) => p.name === '@chorus/b')
    expect(b?.deps).toEqual(['@chorus/a'])
    expect(b?.bench).toBe('node bench/index.ts')
  })
})
