// Rewrites the settings table in README.md from the settings table in the code (src/config/settings.ts),
// so the two cannot drift apart: `pnpm --filter @chorus/node readme` after changing a setting
// (test/config.test.ts fails while they differ).
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { withSettingsTable } from '../dist/config/settings.js'

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md')
const before = readFileSync(file, 'utf8')
const after = withSettingsTable(before)
writeFileSync(file, after)
process.stdout.write(`README.md: settings table ${after === before ? 'already current' : 'rewritten'}\n`)
