import { defineConfig } from 'vitest/config'

// One run over every package, so the totals cover the whole workspace. Each project keeps its own
// vitest.config.ts (timeouts, setup); coverage is collected over package sources.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests', 'tests/reliability'],
    // One test file at a time: the multi-node files run 5-20 real libp2p nodes each, and two of
    // them at once on this 2-core machine starve each other's queries into timeouts.
    fileParallelism: false,
    maxWorkers: 1,
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: '.reports/coverage',
      thresholds: {
        'packages/ucxl/src/**/*.ts': { lines: 90 }
      }
    }
  }
})
