/**
 * Every README's generated parts match the code (option tables from the TSDoc of the Init
 * interfaces and their defaults objects; example blocks from example files), and every example a
 * README shows runs to a clean exit against the built packages.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script without types
import { packageDirs, readmeExamples, renderReadme } from '../scripts/readme-docs.mjs'

const run = promisify(execFile)
const dirs = packageDirs() as string[]
const root = join(import.meta.dirname, '..')

describe.each(dirs.map((dir) => [relative(root, dir), dir]))('%s README', (_name, dir) => {
  it('has generated sections that match the code (node scripts/readme-docs.mjs rewrites them)', async () => {
    const problems: string[] = []
    const rendered = (await renderReadme(dir, problems)) as string
    expect(problems).toEqual([])
    expect(rendered).toBe(readFileSync(join(dir, 'README.md'), 'utf8'))
  })

  const examples = readmeExamples(dir) as string[]
  it.runIf(examples.length > 0).each(examples)(
    'example %s runs and exits 0',
    async (file) => {
      // Examples check their own results with node:assert: a failed check is a non-zero exit.
      await expect(run(process.execPath, [file], { cwd: dir, timeout: 120_000 })).resolves.toBeDefined()
    },
    150_000
  )

  it('shows at least one runnable example', () => {
    expect(
      examples.length,
      `${basename(dir)}: add <!-- example: examples/....ts --> to its README`
    ).toBeGreaterThan(0)
  })
})
