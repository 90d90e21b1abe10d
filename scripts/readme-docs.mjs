#!/usr/bin/env node
/**
 * Keeps the generated parts of every package README in step with the code:
 *
 * - Option tables. A README section
 *     <!-- options: src/config.ts#StorageInit src/config.ts#storageDefaults -->
 *     ...table...
 *     <!-- /options -->
 *   is the table of the interface's properties (name, type, default, description), read from
 *   their TSDoc with the TypeScript compiler. Every property needs a `@default` tag. Where the
 *   defaults object (second reference, imported from the build in dist/) has the property, the
 *   tag, evaluated as a JavaScript literal, must equal its value, so a README default cannot lie.
 *   The second reference is optional for interfaces without a defaults object.
 * - Examples. A README line `<!-- example: examples/quick-start.ts -->` followed by a fenced
 *   block: the block is that file, which the test suite runs.
 *
 * - The feature table of the root README (`<!-- features -->` ... `<!-- /features -->`): every
 *   operation of the reference with its package function, API route and CLI command, from
 *   `scripts/features.mjs` (checked against the code by `tests/features.test.ts`).
 *
 * `node scripts/readme-docs.mjs` rewrites the READMEs; `--check` only reports drift (exit 1).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import ts from 'typescript'
import { featureTable } from './features.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const OPTIONS_RE = /<!-- options: (\S+)#(\w+)(?: (\S+)#(\w+))? -->\n[\s\S]*?<!-- \/options -->/g
const FEATURES_RE = /<!-- features -->\n[\s\S]*?<!-- \/features -->/g
const EXAMPLE_RE = /<!-- example: (\S+) -->\n```(\w*)\n(?:[\s\S]*?\n)?```/g

/** Package folders that have a README. */
export function packageDirs() {
  const out = []
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(ROOT, group))) {
      const dir = join(ROOT, group, name)
      if (existsSync(join(dir, 'README.md')) && existsSync(join(dir, 'package.json'))) out.push(dir)
    }
  }
  return out
}

/** The example files a README shows (paths relative to the package folder). */
export function readmeExamples(dir) {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8')
  return [...readme.matchAll(EXAMPLE_RE)].map((m) => m[1])
}

function docText(symbolDoc) {
  return ts.displayPartsToString(symbolDoc).replace(/\s+/g, ' ').trim()
}

function cell(text) {
  return text.replaceAll('|', '\\|').replace(/\s+/g, ' ').trim()
}

/** One TypeScript program per source file, however many interfaces READMEs read from it. */
const programs = new Map()

function programOf(file) {
  let program = programs.get(file)
  if (program === undefined) {
    program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      noEmit: true
    })
    programs.set(file, program)
  }
  return program
}

/** The properties of an exported interface: name, optional, type text, description, @default. */
function interfaceProperties(file, name) {
  const program = programOf(file)
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  if (source === undefined) throw new Error(`${file}: not found`)
  const decl = source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === name)
  if (decl === undefined) throw new Error(`${relative(ROOT, file)}: no interface ${name}`)
  const type = checker.getTypeAtLocation(decl)
  const props = []
  for (const sym of checker.getPropertiesOfType(type)) {
    const d = sym.declarations?.[0]
    const tags = sym.getJsDocTags(checker)
    const def = tags.find((t) => t.name === 'default')
    props.push({
      name: sym.getName(),
      optional: (sym.flags & ts.SymbolFlags.Optional) !== 0,
      type:
        d && ts.isPropertySignature(d) && d.type
          ? d.type.getText().replace(/\s+/g, ' ')
          : checker.typeToString(checker.getTypeOfSymbol(sym)),
      description: docText(sym.getDocumentationComment(checker)),
      default: def === undefined ? undefined : ts.displayPartsToString(def.text ?? []).trim(),
      deprecated: tags.some((t) => t.name === 'deprecated')
    })
  }
  return props
}

function evaluate(text) {
  // Repository source only: the @default tags of our own interfaces.
  return new Function(`return (${text})`)()
}

async function optionsTable(dir, m, problems) {
  const [, file, iface, defaultsFile, defaultsName] = m
  const where = `${relative(ROOT, dir)}/README.md (${iface})`
  const props = interfaceProperties(join(dir, file), iface)
  let defaults
  if (defaultsFile !== undefined) {
    const built = join(dir, defaultsFile.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js'))
    const mod = await import(pathToFileURL(built).href)
    defaults = mod[defaultsName]
    if (defaults === undefined)
      problems.push(`${where}: ${defaultsFile} exports no ${defaultsName} (build first)`)
  }
  const rows = ['| option | type | default | description |', '|---|---|---|---|']
  for (const p of props) {
    if (p.default === undefined) {
      problems.push(`${where}: option ${p.name} has no @default tag`)
      continue
    }
    if (defaults !== undefined && Object.hasOwn(defaults, p.name)) {
      const actual = defaults[p.name]
      if (typeof actual !== 'function') {
        let stated
        try {
          stated = evaluate(p.default)
        } catch {
          problems.push(
            `${where}: @default of ${p.name} (${p.default}) is not a literal, but ${defaultsName}.${p.name} is ${JSON.stringify(actual)}`
          )
          continue
        }
        if (!isDeepStrictEqual(stated, actual)) {
          problems.push(
            `${where}: @default of ${p.name} says ${p.default}, ${defaultsName}.${p.name} is ${JSON.stringify(actual)}`
          )
        }
      }
    }
    const name = `\`${p.name}\`${p.deprecated ? ' (deprecated)' : ''}`
    rows.push(
      `| ${name} | \`${cell(p.type)}\` | ${cell(p.default.startsWith('`') ? p.default : `\`${p.default}\``)} | ${cell(p.description)} |`
    )
  }
  const refs = `${file}#${iface}${defaultsFile === undefined ? '' : ` ${defaultsFile}#${defaultsName}`}`
  return `<!-- options: ${refs} -->\n${rows.join('\n')}\n<!-- /options -->`
}

/** The README of `dir` with its generated parts rebuilt; problems are appended to `problems`. */
export async function renderReadme(dir, problems = []) {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8')
  let out = ''
  let last = 0
  for (const m of readme.matchAll(OPTIONS_RE)) {
    out += readme.slice(last, m.index) + (await optionsTable(dir, m, problems))
    last = m.index + m[0].length
  }
  out += readme.slice(last)
  return out.replace(EXAMPLE_RE, (_all, file, lang) => {
    const path = join(dir, file)
    if (!existsSync(path)) {
      problems.push(`${relative(ROOT, dir)}/README.md: example ${file} does not exist`)
      return _all
    }
    const code = readFileSync(path, 'utf8').replace(/\n+$/, '')
    return `<!-- example: ${file} -->\n\`\`\`${lang || 'ts'}\n${code}\n\`\`\``
  })
}

/** The root README with its feature table rebuilt. */
export function renderRootReadme() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  return readme.replace(FEATURES_RE, () => `<!-- features -->\n${featureTable()}\n<!-- /features -->`)
}

async function main() {
  const check = process.argv.includes('--check')
  const problems = []
  const rootReadme = join(ROOT, 'README.md')
  const rendered = renderRootReadme()
  if (rendered !== readFileSync(rootReadme, 'utf8')) {
    if (check) problems.push('README.md: the feature table is out of date (run node scripts/readme-docs.mjs)')
    else writeFileSync(rootReadme, rendered)
  }
  for (const dir of packageDirs()) {
    const path = join(dir, 'README.md')
    const before = readFileSync(path, 'utf8')
    const after = await renderReadme(dir, problems)
    if (after === before) continue
    if (check)
      problems.push(
        `${relative(ROOT, path)}: generated sections are out of date (run node scripts/readme-docs.mjs)`
      )
    else writeFileSync(path, after)
  }
  for (const p of problems) console.error(p)
  process.exit(problems.length > 0 ? 1 : 0)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main()
