// The layering rules of docs/ARCHITECTURE.md, checked against what is really installed:
//  1. @chorus/common, @chorus/ucxl, @chorus/crypto and @chorus/team have no libp2p package
//     (`libp2p`, `@libp2p/*`, `@chainsafe/libp2p*`) among their production dependencies, direct or
//     transitive.
//  2. No package depends on, or imports from, apps/ (`@chorus/node` or a relative path into apps/).
// Run directly it prints violations and exits 1; tests import the functions.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const LIBP2P_FREE = [
  'packages/common',
  'packages/ucxl',
  'packages/crypto',
  'packages/team',
  'packages/client'
]

export function isLibp2pPackage(name) {
  return name === 'libp2p' || name.startsWith('@libp2p/') || name.startsWith('@chainsafe/libp2p')
}

function readManifest(dir) {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
}

// Node's resolution: look for node_modules/<name> in the package's folder and each parent.
// In pnpm's layout a package's dependencies are its siblings under .pnpm/<id>/node_modules.
function locate(name, fromDir) {
  let dir = fromDir
  for (;;) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/**
 * The production dependency closure of the package in `pkgDir` as installed on disk:
 * a map of package name to the chain of names that pulls it in.
 */
export function productionClosure(pkgDir) {
  const start = realpathSync(pkgDir)
  const seen = new Map()
  const visitedDirs = new Set([start])
  const queue = [{ dir: start, chain: [readManifest(start).name] }]
  while (queue.length > 0) {
    const { dir, chain } = queue.shift()
    const manifest = readManifest(dir)
    const names = {
      ...(manifest.dependencies ?? {}),
      ...(manifest.optionalDependencies ?? {}),
      ...(manifest.peerDependencies ?? {})
    }
    for (const name of Object.keys(names)) {
      const found = locate(name, dir)
      if (found === undefined) {
        // An optional or peer dependency that is not installed is not part of the closure.
        if (manifest.optionalDependencies?.[name] || manifest.peerDependencies?.[name]) continue
        throw new Error(`${chain.join(' > ')} depends on ${name}, which is not installed: run pnpm install`)
      }
      if (!seen.has(name)) seen.set(name, [...chain, name])
      if (!visitedDirs.has(found)) {
        visitedDirs.add(found)
        queue.push({ dir: found, chain: [...chain, name] })
      }
    }
  }
  return seen
}

export function libp2pViolations(pkgDir) {
  return [...productionClosure(pkgDir)]
    .filter(([name]) => isLibp2pPackage(name))
    .map(([name, chain]) => `${relative(ROOT, pkgDir) || pkgDir}: ${name} via ${chain.join(' > ')}`)
}

export function workspacePackageDirs(root = ROOT) {
  const dirs = []
  for (const group of ['packages', 'apps']) {
    const base = join(root, group)
    if (!existsSync(base)) continue
    for (const entry of readdirSync(base)) {
      const dir = join(base, entry)
      if (existsSync(join(dir, 'package.json'))) dirs.push(dir)
    }
  }
  return dirs
}

function sourceFiles(dir) {
  const out = []
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'coverage') continue
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (/\.(ts|mts|js|mjs)$/.test(entry)) out.push(path)
  }
  return out
}

export function appImportViolations(root = ROOT) {
  const appNames = new Set(
    workspacePackageDirs(root)
      .filter((d) => relative(root, d).startsWith('apps'))
      .map((d) => readManifest(d).name)
  )
  const problems = []
  for (const dir of workspacePackageDirs(root)) {
    if (relative(root, dir).startsWith('apps')) continue
    const manifest = readManifest(dir)
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const name of Object.keys(manifest[field] ?? {})) {
        if (appNames.has(name)) problems.push(`${relative(root, dir)}: ${field} names the app ${name}`)
      }
    }
    for (const file of sourceFiles(dir)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]
        const intoApps = spec.startsWith('.') && resolve(dirname(file), spec).startsWith(join(root, 'apps'))
        if (intoApps || [...appNames].some((n) => spec === n || spec.startsWith(`${n}/`))) {
          problems.push(`${relative(root, file)} imports ${spec}`)
        }
      }
    }
  }
  return problems
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = [...LIBP2P_FREE.flatMap((p) => libp2pViolations(join(ROOT, p))), ...appImportViolations()]
  if (problems.length > 0) {
    console.error(`dependency rule broken:\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  console.log(`dependency rule holds: ${LIBP2P_FREE.join(', ')} are libp2p-free; nothing depends on apps/`)
}
