// Prints the totals of a vitest JSON report alone on a line, `N passed, N failed[, N skipped]`,
// and exits non-zero when anything failed, when a test file failed to load, or when no test ran.
import { readFileSync } from 'node:fs'

const file = process.argv[2] ?? '.reports/vitest.json'
let report
try {
  report = JSON.parse(readFileSync(file, 'utf8'))
} catch (err) {
  console.error(`totals: no test report at ${file} (${err.message})`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}

const passed = report.numPassedTests ?? 0
// A file that fails to import has no tests but a failed suite: count it as a failure.
const brokenFiles = (report.testResults ?? []).filter(
  (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0
).length
const failed = (report.numFailedTests ?? 0) + brokenFiles
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)

console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
