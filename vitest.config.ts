import { defineConfig } from 'vitest/config'

// One run over every package, so the totals cover the whole workspace. Each project keeps its own
// vitest.config.ts (timeouts, setup); coverage is collected over package sources.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests', 'tests/reliability'],
    // Two cores: multi-node tests are CPU-bound, so keep files from starving each other.
    maxWorkers: 2,
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
