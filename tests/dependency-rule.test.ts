import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error: plain ESM script without types
import * as rule from '../scripts/check-deps.mjs'

const { ROOT, LIBP2P_FREE, appImportViolations, isLibp2pPackage, libp2pViolations, productionClosure } = rule

describe('dependency rule: common, ucxl, crypto and team stay libp2p-free', () => {
  it.each(LIBP2P_FREE as string[])('%s has no libp2p package in its installed production closure', (pkg) => {
    const closure: Map<string, string[]> = productionClosure(join(ROOT, pkg))
    // The walk really sees the installed tree: at least every direct dependency.
    const direct = Object.keys(
      JSON.parse(readFileSync(join(ROOT, pkg, 'package.json'), 'utf8')).dependencies ?? {}
    )
    for (const name of direct) expect(closure.has(name), name).toBe(true)
    expect(libp2pViolations(join(ROOT, pkg))).toEqual([])
  })

  it('recognises every libp2p package name form', () => {
    expect(isLibp2pPackage('libp2p')).toBe(true)
    expect(isLibp2pPackage('@libp2p/kad-dht')).toBe(true)
    expect(isLibp2pPackage('@chainsafe/libp2p-noise')).toBe(true)
    expect(isLibp2pPackage('@chainsafe/is-ip')).toBe(false)
    expect(isLibp2pPackage('libp2p-ish')).toBe(false)
  })

  describe('catches a transitive libp2p dependency in an installed tree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-deprule-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    const write = (path: string, manifest: object) => {
      mkdirSync(join(dir, path), { recursive: true })
      writeFileSync(join(dir, path, 'package.json'), JSON.stringify(manifest))
    }

    it('reports the chain that pulls it in', () => {
      write('pkg', { name: '@chorus/fake', dependencies: { innocent: '1.0.0' } })
      write('node_modules/innocent', {
        name: 'innocent',
        dependencies: { '@chainsafe/libp2p-noise': '1.0.0' }
      })
      write('node_modules/@chainsafe/libp2p-noise', { name: '@chainsafe/libp2p-noise' })
      const found: string[] = libp2pViolations(join(dir, 'pkg'))
      expect(found).toHaveLength(1)
      expect(found[0]).toContain('@chorus/fake > innocent > @chainsafe/libp2p-noise')
    })
  })
})

describe('dependency rule: nothing depends on apps/', () => {
  it('no package names the app or imports from apps/', () => {
    expect(appImportViolations()).toEqual([])
  })

  it('catches a package that imports from apps/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-apprule-'))
    try {
      mkdirSync(join(dir, 'apps/node'), { recursive: true })
      writeFileSync(join(dir, 'apps/node/package.json'), JSON.stringify({ name: '@chorus/node' }))
      mkdirSync(join(dir, 'packages/x/src'), { recursive: true })
      writeFileSync(join(dir, 'packages/x/package.json'), JSON.stringify({ name: '@chorus/x' }))
      writeFileSync(join(dir, 'packages/x/src/a.ts'), "import { y } from '../../../apps/node/src/y.js'\n")
      writeFileSync(join(dir, 'packages/x/src/b.ts'), "export * from '@chorus/node/config'\n")
      const problems: string[] = appImportViolations(dir)
      expect(problems).toHaveLength(2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
