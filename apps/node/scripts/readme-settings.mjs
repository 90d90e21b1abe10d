// Rewrites the settings table in README.md from the settings table in the code (src/config/settings.ts),
// so the two cannot drift apart: `pnpm --filter @chorus/node readme` after changing a setting
// (test/config.test.ts fails while they differ).
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { settingsMarkdownTable } from '../dist/config/settings.js'

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md')
const lines = readFileSync(file, 'utf8').split('\n')
const start = lines.findIndex((l) => l.startsWith('| setting (file) |'))
if (start < 0) throw new Error('README.md has no settings table (a line starting "| setting (file) |")')
let end = start
while (end < lines.length && lines[end]?.startsWith('|')) end++
lines.splice(start, end - start, ...settingsMarkdownTable().split('\n'))
writeFileSync(file, lines.join('\n'))
process.stdout.write(
  `README.md: settings table rewritten (${end - start} -> ${settingsMarkdownTable().split('\n').length} lines)\n`
)
