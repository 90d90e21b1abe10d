import { describe, expect, it } from 'vitest'
import {
  type DecisionInput,
  DecisionValidationError,
  INVALID_DECISION,
  validateDecision
} from '../src/index.js'

const full: DecisionInput = {
  task: 'task456: choose the storage engine',
  decision: 'Use node:sqlite for the local index',
  rationale: 'Built into Node 24, real SQLite, no native build step',
  alternatives: [
    { option: 'better-sqlite3', reasonRejected: 'native build on every install' },
    { option: 'LevelDB' }
  ],
  context: 'The index must survive restarts.',
  files: [{ path: 'packages/storage/src/index.ts', change: 'modified' }, { path: 'docs/adr/0003.md' }],
  testResults: { passed: 41, failed: 0, skipped: 2, command: 'pnpm test', summary: 'green' },
  author: { agent: 'agent001', role: 'backend_developer' },
  timestamp: '2025-11-21T10:15:00+01:00',
  references: [
    'ucxl://agent001/backend_developer/project123/task456/decision',
    'UCXL://agent002:senior_architect@project123:task400/~~1/adr//0002/'
  ]
}

function errorOf(input: unknown): DecisionValidationError {
  try {
    validateDecision(input)
  } catch (err) {
    expect(err).toBeInstanceOf(DecisionValidationError)
    return err as DecisionValidationError
  }
  throw new Error('expected a DecisionValidationError')
}

describe('validateDecision', () => {
  it('returns the typed decision, references canonical', () => {
    const d = validateDecision(full)
    expect(d.author).toEqual({ agent: 'agent001', role: 'backend_developer' })
    expect(d.testResults).toEqual(full.testResults)
    expect(d.alternatives).toHaveLength(2)
    expect(d.references).toEqual([
      'ucxl://agent001:backend_developer@project123:task456/*^/decision',
      'ucxl://agent002:senior_architect@project123:task400/~~1/adr/0002'
    ])
  })

  it('fills defaults for the optional lists and drops unknown keys', () => {
    const d = validateDecision({
      task: 't',
      decision: 'd',
      rationale: 'r',
      author: { agent: 'a', role: 'r' },
      timestamp: '2025-11-21T09:00:00Z',
      futureField: 1
    })
    expect(d).toEqual({
      task: 't',
      decision: 'd',
      rationale: 'r',
      alternatives: [],
      context: '',
      files: [],
      author: { agent: 'a', role: 'r' },
      timestamp: '2025-11-21T09:00:00Z',
      references: []
    })
    expect(d.testResults).toBeUndefined()
  })

  it.each([
    [{ ...full, task: undefined }, 'task'],
    [{ ...full, decision: '   ' }, 'decision'],
    [{ ...full, rationale: 7 }, 'rationale'],
    [{ ...full, alternatives: [{ reasonRejected: 'x' }] }, 'alternatives.0.option'],
    [{ ...full, alternatives: 'none' }, 'alternatives'],
    [{ ...full, files: [{ path: 'a', change: 'moved' }] }, 'files.0.change'],
    [{ ...full, testResults: { passed: 1, failed: -1 } }, 'testResults.failed'],
    [{ ...full, testResults: { passed: 1.5, failed: 0 } }, 'testResults.passed'],
    [{ ...full, author: { agent: 'agent001' } }, 'author.role'],
    [{ ...full, author: { agent: 'agent 1', role: 'r' } }, 'author.agent'],
    [{ ...full, author: { agent: 'a', role: 'any' } }, 'author.role'],
    [{ ...full, author: { agent: '*', role: 'r' } }, 'author.agent'],
    [{ ...full, author: { agent: 'a'.repeat(600), role: 'r' } }, 'author.agent'],
    [{ ...full, timestamp: 'yesterday' }, 'timestamp'],
    [{ ...full, timestamp: '2025-11-21 10:15' }, 'timestamp'],
    [{ ...full, references: ['ucxl://a:r@p:t/*^/x', 'ucxl://a:r@p:t/*^/../etc'] }, 'references.1'],
    [{ ...full, references: [42] }, 'references.0'],
    [null, '(root)'],
    ['decision', '(root)']
  ])('names the bad field: %#', (input, field) => {
    const e = errorOf(input)
    expect(e.name).toBe('DecisionValidationError')
    expect(e.code).toBe(INVALID_DECISION)
    expect(e.field).toBe(field)
    expect(e.issues[0]?.field).toBe(field)
    expect(e.message).toContain(field)
  })

  it('says why a reference is not an address', () => {
    const e = errorOf({ ...full, references: ['ucxl://a:r@p:t/~~x'] })
    expect(e.reason).toContain('UCXL-400-TEMPORAL_INVALID')
    expect(e.reason).toContain('temporal')
  })

  it('lists every issue', () => {
    const e = errorOf({ ...full, task: '', timestamp: 'now' })
    expect(e.issues.map((i) => i.field).sort()).toEqual(['task', 'timestamp'])
    expect(e.message).toContain('and 1 more')
  })
})
