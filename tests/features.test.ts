/**
 * The root README's feature table cannot drift from the code: every row's package function is
 * exported by its package (a member of the exported class or interface where the row names one),
 * its route is registered on the agent's API server, its command and option exist in the CLI, and
 * the README block is the generated table. Reads the builds (dist/): build first.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FEATURES, type Feature, featureTable } from '../scripts/features.mjs'
import { renderRootReadme } from '../scripts/readme-docs.mjs'

const root = join(import.meta.dirname, '..')

/** Package name → its folder. */
function packageDirs(): Map<string, string> {
  const out = new Map<string, string>()
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) {
      try {
        const pkg = JSON.parse(readFileSync(join(root, group, name, 'package.json'), 'utf8')) as {
          name: string
        }
        out.set(pkg.name, join(root, group, name))
      } catch {
        // not a package
      }
    }
  }
  return out
}

const dirs = packageDirs()
const declarations = (pkg: string) => join(dirs.get(pkg) ?? `(no package ${pkg})`, 'dist', 'index.d.ts')
const program = ts.createProgram([...new Set(FEATURES.map((f) => declarations(f.fn[0])))], {
  noEmit: true,
  skipLibCheck: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext
})
const checker = program.getTypeChecker()

/** Whether `pkg` exports `name` (and, given, whether its type has the member `member`). */
function exported(pkg: string, name: string, member?: string): boolean {
  const file = program.getSourceFile(declarations(pkg))
  if (file === undefined) return false
  const module = checker.getSymbolAtLocation(file)
  if (module === undefined) return false
  let symbol = checker.getExportsOfModule(module).find((s) => s.getName() === name)
  if (symbol === undefined) return false
  if (member === undefined) return true
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol)
  return checker.getDeclaredTypeOfSymbol(symbol).getProperty(member) !== undefined
}

const label = (f: Feature) => `${f.area}: ${f.op}`

describe('the feature table', () => {
  it.each(FEATURES.map((f) => [label(f), f] as const))('%s: the package exports its function', (_l, f) => {
    const [pkg, name, member] = f.fn
    expect(
      exported(pkg, name, member),
      `${pkg} exports ${member === undefined ? name : `${name}.${member}`}`
    ).toBe(true)
  })

  describe('routes and commands', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the built app's types are not imported here
    let api: any
    // biome-ignore lint/suspicious/noExplicitAny: as above
    let cli: any
    beforeAll(async () => {
      const node = await import(pathToFileURL(join(root, 'apps/node/dist/index.js')).href)
      const { buildProgram } = await import(pathToFileURL(join(root, 'apps/node/dist/cli/program.js')).href)
      // the routes only need to be registered: no handler runs, so no method of the service is called
      const service = new Proxy(
        {},
        {
          get: () => () => {
            throw new Error('not called')
          }
        }
      )
      const log = {
        level: 'warn',
        info() {},
        warn() {},
        error() {},
        debug() {},
        fatal() {},
        trace() {},
        silent() {},
        child: () => log
      }
      api = node.createAPIServer({ service, token: 't', logger: log })
      await api.app.ready()
      cli = buildProgram()
    })
    afterAll(async () => {
      await api?.close()
    })

    const routed = FEATURES.filter((f) => f.route !== undefined)
    it.each(routed.map((f) => [label(f), f] as const))('%s: the API serves its route', (_l, f) => {
      const [method, url] = f.route!
      expect(api.app.hasRoute({ method, url }), `${method} ${url}`).toBe(true)
    })

    const commanded = FEATURES.filter((f) => f.cli !== undefined)
    it.each(commanded.map((f) => [label(f), f] as const))('%s: the CLI has its command', (_l, f) => {
      const [path, option] = f.cli!
      // biome-ignore lint/suspicious/noExplicitAny: commander's Command
      let cmd: any = cli
      for (const name of path.split(' ')) {
        // biome-ignore lint/suspicious/noExplicitAny: as above
        cmd = cmd?.commands.find((c: any) => c.name() === name)
      }
      expect(cmd, `chorus-node ${path}`).toBeDefined()
      if (option !== undefined)
        expect(
          cmd.options.some((o: { long?: string }) => o.long === option),
          `${path} ${option}`
        ).toBe(true)
    })
  })

  it('is in the root README as generated (node scripts/readme-docs.mjs)', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(featureTable())
    expect(renderRootReadme()).toBe(readFileSync(join(root, 'README.md'), 'utf8'))
  })

  it('covers every operation group of the reference', () => {
    expect(new Set(FEATURES.map((f) => f.area))).toEqual(
      new Set(['DHT', 'Encrypted storage', 'Encryption', 'Replication', 'Hybrid', 'Config'])
    )
  })
})
